// The MatMulNBits layout against ONNX Runtime itself: a one-node model multiplying the identity by the
// packed weight returns the weight ONNX Runtime dequantized, which must equal quantkit's TypeScript
// dequantization (nbits-layout.ts and algorithms/blocked-weight.ts) for every bit width, block size,
// padded last block, with and without zero points.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocateBlocks,
  type BlockQuantized,
  dequantizeBlocks,
} from '../../../src/algorithms/blocked-weight.js';
import { rtn } from '../../../src/algorithms/rtn.js';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import { Node } from '../../../src/onnx/node.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { addNBitsWeight } from '../../../src/passes/weight-only/matmul-nbits.js';
import { dequantizeNBits } from '../../../src/passes/weight-only/nbits-layout.js';
import { Runner } from '../../../src/runtime/session.js';
import { createRng } from '../../../src/tensor/random.js';
import { weightWithOutliers } from '../../algorithms/weights.js';

/** What ONNX Runtime's MatMulNBits multiplies by, read back as I · W' with I the K × K identity. */
async function ortWeight(
  q: BlockQuantized,
): Promise<{ ort: Float32Array; ts: Float32Array; zeroPoints: boolean }> {
  const graph = makeGraph({
    nodes: [],
    inputs: [makeValueInfo('a', 'float32', [q.k, q.k])],
    outputs: [makeValueInfo('y', 'float32', [q.k, q.n])],
  });
  const w = addNBitsWeight(graph, 'w', q);
  const inputs = w.zeroPoints ? ['a', w.b, w.scales, w.zeroPoints] : ['a', w.b, w.scales];
  const attributes = [
    Attribute.int('K', q.k),
    Attribute.int('N', q.n),
    Attribute.int('bits', q.bits),
    Attribute.int('block_size', q.blockSize),
  ];
  graph.addNode(new Node('MatMulNBits', inputs, ['y'], { domain: 'com.microsoft', attributes }));
  const model = makeModel(graph, { opsets: { '': 17, 'com.microsoft': 1 } });
  const identity = new Float32Array(q.k * q.k);
  for (let i = 0; i < q.k; i++) identity[i * q.k + i] = 1;
  const runner = await Runner.create(model, { optimization: 'disabled' });
  try {
    const out = await runner.run({ a: { dtype: 'float32', shape: [q.k, q.k], data: identity } });
    const tensor = (name: string) => graph.initializers.get(name)!.data() as Uint8Array;
    const ts = dequantizeNBits(
      q,
      tensor(w.b),
      graph.initializers.get(w.scales)!.toFloat32(),
      w.zeroPoints ? tensor(w.zeroPoints) : undefined,
    );
    return { ort: out.y.data as Float32Array, ts, zeroPoints: w.zeroPoints !== undefined };
  } finally {
    await runner.release();
  }
}

/** Element by element with ===: the identity product turns −0 into +0, which is the same weight. */
function assertSameValues(actual: Float32Array, expected: Float32Array, message: string): void {
  assert.equal(actual.length, expected.length, message);
  const at = actual.findIndex((v, i) => v !== expected[i]);
  assert.equal(at, -1, `${message}: element ${at} is ${actual[at]}, expected ${expected[at]}`);
}

/** Random codes, zero points over the whole code range and scales of both signs. */
function randomBlocks(k: number, n: number, bits: number, blockSize: number, seed: number): BlockQuantized {
  const rng = createRng(seed);
  const q = allocateBlocks({ k, n, bits, blockSize });
  const codes = 2 ** bits;
  for (let i = 0; i < q.codes.length; i++) q.codes[i] = rng.nextUint32() % codes;
  for (let i = 0; i < q.scales.length; i++) {
    q.scales[i] = Math.fround((rng.nextFloat() - 0.5) * 0.1);
    q.zeroPoints[i] = rng.nextUint32() % codes;
  }
  return q;
}

describe('MatMulNBits layout in ONNX Runtime', () => {
  for (const bits of [2, 4, 8]) {
    for (const blockSize of [16, 32, 64, 128]) {
      it(`${bits}-bit, blocks of ${blockSize}: TypeScript dequantization = ONNX Runtime's`, async () => {
        // K = 2 blocks + 5 pads the last block; K < block size is a single padded block.
        for (const k of [2 * blockSize + 5, blockSize - 3]) {
          const w = weightWithOutliers(k, 6, k);
          const cases = {
            symmetric: rtn(w, { k, n: 6, bits, blockSize }, 'signed-max'),
            asymmetric: rtn(w, { k, n: 6, bits, blockSize }, 'asymmetric'),
            random: randomBlocks(k, 5, bits, blockSize, k + bits),
          };
          for (const [name, q] of Object.entries(cases)) {
            const { ort, ts, zeroPoints } = await ortWeight(q);
            assert.equal(zeroPoints, name !== 'symmetric', `${name}: zero_points input written iff needed`);
            assert.deepEqual(ts, dequantizeBlocks(q), `${name}, K ${k}: packing round trip`);
            assertSameValues(ort, ts, `${name}, K ${k}: ONNX Runtime vs TypeScript`);
          }
        }
      });
    }
  }
});
