// Token embeddings as com.microsoft.GatherBlockQuantized, run by ONNX Runtime: the rows it gathers must
// equal the table quantized row by row in TypeScript (algorithms/blocked-weight.ts), for every bit width,
// symmetric and asymmetric, whole and partial last blocks; a table shared with the output projection
// (tied embeddings) is quantized for both readers and its float copy dropped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dequantizeBlocks } from '../../../src/algorithms/blocked-weight.js';
import { quantizeBlocks } from '../../../src/algorithms/weight-quantizer.js';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { resolveWeightOnlyOptions, type WeightOnlyOptions } from '../../../src/passes/weight-only/options.js';
import { quantizeWeightOnly } from '../../../src/passes/weight-only/quantize-weight-only.js';
import { randomTensor } from '../../helpers/tiny-models.js';
import { runModel } from '../dynamic/compare.js';
import { opTypes } from './models.js';

const V = 40;
const H = 48;
const ALL_ROWS = BigInt64Array.from({ length: V }, (_, i) => BigInt((i * 7) % V));

/** ids [n] → Gather(E [V, H]) → rows [n, H]. */
function embedding(): Model {
  const graph = makeGraph({
    nodes: [new Node('Gather', ['E', 'ids'], ['rows'], { name: 'embed' })],
    inputs: [makeValueInfo('ids', 'int64', ['n'])],
    outputs: [makeValueInfo('rows', 'float32', ['n', H])],
    initializers: [randomTensor('E', [V, H], 11, 0.2)],
  });
  return makeModel(graph, { opsets: { '': 17 } });
}

/** The table's rows as quantkit quantizes and dequantizes them in TypeScript: [V, H]. */
function expectedTable(model: Model, options: WeightOnlyOptions): Float32Array {
  const table = model.graph.initializers.get('E')!.toFloat32();
  const transposed = new Float32Array(V * H);
  for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) transposed[h * V + v] = table[v * H + h];
  const dq = dequantizeBlocks(quantizeBlocks(transposed, H, V, resolveWeightOnlyOptions(options)));
  const out = new Float32Array(V * H);
  for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) out[v * H + h] = dq[h * V + v];
  return out;
}

async function gathered(model: Model): Promise<Float32Array> {
  const [out] = await runModel(model, [{ ids: { dtype: 'int64', shape: [V], data: ALL_ROWS } }]);
  return out.rows.data as Float32Array;
}

describe('GatherBlockQuantized for token embeddings', () => {
  const cases: WeightOnlyOptions[] = [
    { bits: 4, blockSize: 16 },
    { bits: 4, blockSize: 32 }, // 48 = one whole block and a partial one
    { bits: 4, blockSize: 16, symmetric: false },
    { bits: 4, blockSize: 32, algorithm: 'hqq' },
    { bits: 8, blockSize: 16 },
    { bits: 8, blockSize: 32, symmetric: false },
    { bits: 2, blockSize: 16, symmetric: false },
  ];
  for (const c of cases) {
    const label = `${c.bits}-bit, blocks of ${c.blockSize}, ${c.algorithm ?? 'rtn'}${c.symmetric === false ? ' asymmetric' : ''}`;
    it(`${label}: ONNX Runtime gathers the rows quantized in TypeScript`, async () => {
      const float = embedding();
      const model = embedding();
      const options = { ...c, opTypes: ['Gather'] };
      const report = quantizeWeightOnly(model, options);
      assert.deepEqual(opTypes(model), ['GatherBlockQuantized']);
      assert.equal(report.nodes.length, 1);
      assert.ok(report.nodes[0].done, report.nodes[0].note);
      assert.equal(model.graph.initializers.has('E'), false, 'the float table is dropped');
      assert.equal(model.opset('com.microsoft'), 1);
      const expected = expectedTable(float, c);
      const got = await gathered(model);
      const reference = await gathered(float);
      let worst = 0;
      for (let i = 0; i < got.length; i++) {
        const row = Number(ALL_ROWS[Math.floor(i / H)]);
        assert.equal(got[i], expected[row * H + (i % H)], `element ${i} (row ${row})`);
        worst = Math.max(worst, Math.abs(got[i] - reference[i]));
      }
      // The table spans ±0.2: the worst error is bounded by one step of the coarsest grid used.
      assert.ok(worst <= 0.4 / (2 ** c.bits! - 1) + 1e-6, `worst error ${worst}`);
    });
  }

  it('a table tied to the output projection is quantized for both and its float copy dropped', async () => {
    const build = () =>
      makeModel(
        makeGraph({
          nodes: [
            new Node('Gather', ['E', 'ids'], ['h'], { name: 'embed' }),
            new Node('Gemm', ['h', 'E'], ['logits'], {
              name: 'lm_head',
              attributes: [Attribute.int('transB', 1)],
            }),
          ],
          inputs: [makeValueInfo('ids', 'int64', ['n'])],
          outputs: [makeValueInfo('logits', 'float32', ['n', V])],
          initializers: [randomTensor('E', [V, H], 11, 0.2)],
        }),
        { opsets: { '': 17 } },
      );
    const model = build();
    const report = quantizeWeightOnly(model, { blockSize: 16, opTypes: ['Gather', 'Gemm'] });
    assert.deepEqual(
      report.nodes.map((n) => [n.node, n.done]),
      [
        ['lm_head', true],
        ['embed', true],
      ],
    );
    assert.deepEqual(opTypes(model).sort(), ['GatherBlockQuantized', 'MatMulNBits']);
    assert.equal(model.graph.initializers.has('E'), false);
    const ids = { ids: { dtype: 'int64' as const, shape: [V], data: ALL_ROWS } };
    const [[a], [b]] = [await runModel(build(), [ids]), await runModel(model, [ids])];
    const x = a.logits.data as Float32Array;
    const y = b.logits.data as Float32Array;
    let dot = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < x.length; i++) {
      dot += x[i] * y[i];
      xx += x[i] * x[i];
      yy += y[i] * y[i];
    }
    assert.ok(dot / Math.sqrt(xx * yy) > 0.98);
  });

  it('is opt-in, and stays float with --format qdq', () => {
    const plain = embedding();
    assert.deepEqual(quantizeWeightOnly(plain, { opTypes: ['MatMul'] }).nodes, []);
    assert.deepEqual(opTypes(plain), ['Gather']);
    const qdq = embedding();
    const report = quantizeWeightOnly(qdq, { format: 'qdq', opTypes: ['Gather'] });
    assert.equal(report.nodes[0].done, false);
    assert.match(report.nodes[0].note, /GatherBlockQuantized is a QOperator form/);
    assert.deepEqual(opTypes(qdq), ['Gather']);
  });
});
