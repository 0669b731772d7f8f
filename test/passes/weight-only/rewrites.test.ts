// One rewrite at a time: Gemm's transA/alpha/beta and every kind of C, batched activations, weights
// that cannot be quantized, shared and tied weights, and bad input. 8-bit weights keep the outputs
// within 1e-4 (cosine) of the float model, so a wrong layout or bias would show.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuantkitError } from '../../../src/errors.js';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { Tensor } from '../../../src/onnx/tensor.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { quantizeWeightOnly } from '../../../src/passes/weight-only/quantize-weight-only.js';
import type { WeightOnlyOptions } from '../../../src/passes/weight-only/options.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { randomInput, randomTensor } from '../../helpers/tiny-models.js';
import { opTypes, outputCosine } from './models.js';

interface Case {
  /** A function: every model built from the case needs its own nodes. */
  nodes: () => Node[];
  inputs: [string, number[]][];
  initializers: Tensor[];
  opset?: number;
}

function build(c: Case): Model {
  const graph = makeGraph({
    nodes: c.nodes(),
    inputs: c.inputs.map(([n, s]) => makeValueInfo(n, 'float32', s)),
    outputs: [makeValueInfo('y', 'float32')],
    initializers: c.initializers,
  });
  return makeModel(graph, { opsets: { '': c.opset ?? 17 } });
}

function feedsOf(c: Case): Record<string, NdArray> {
  return Object.fromEntries(
    c.inputs.map(([n, s], i) => [n, { dtype: 'float32', shape: s, data: randomInput(s, 10 + i) } as NdArray]),
  );
}

/** Quantizes a copy in both formats; both must run and match the float model. */
async function check(c: Case, options: WeightOnlyOptions = {}) {
  const results = [];
  for (const format of ['qoperator', 'qdq'] as const) {
    const m = build(c);
    const report = quantizeWeightOnly(m, { bits: 8, ...options, format });
    const cosine = await outputCosine(build(c), m, feedsOf(c));
    assert.ok(cosine > 0.9999, `${format}: cosine ${cosine}`);
    results.push({ model: m, report });
  }
  return results;
}

const gemm = (inputs: string[], attrs: Attribute[] = []) =>
  new Node('Gemm', inputs, ['y'], { name: 'gemm', attributes: attrs });

describe('weight-only rewrites', () => {
  it('Gemm transA, alpha, beta with a [N] bias: Transpose of A, alpha in the weight, beta in the bias', async () => {
    const [nbits, qdq] = await check({
      nodes: () => [
        gemm(
          ['a', 'w', 'c'],
          [Attribute.int('transA', 1), Attribute.float('alpha', 0.5), Attribute.float('beta', 2)],
        ),
      ],
      inputs: [['a', [48, 4]]],
      initializers: [randomTensor('w', [48, 20], 1), randomTensor('c', [20], 2)],
    });
    assert.deepEqual(opTypes(nbits.model), ['Transpose', 'MatMulNBits']);
    const bias = nbits.model.graph.nodes[1].inputs[5];
    const c = nbits.model.graph.initializers.get('c');
    assert.equal(c, undefined, 'the unscaled bias is dropped');
    assert.deepEqual(
      Array.from(nbits.model.graph.initializers.get(bias)!.toFloat32()),
      Array.from(randomTensor('c', [20], 2).toFloat32(), (v) => Math.fround(v * 2)),
    );
    assert.deepEqual(opTypes(qdq.model), ['Transpose', 'DequantizeLinear', 'MatMul', 'Add']);
  });

  it('Gemm with a [1, N] bias fuses it; an [M, N] bias and a computed C become an Add', async () => {
    const [row] = await check({
      nodes: () => [gemm(['a', 'w', 'c'], [Attribute.int('transB', 1)])],
      inputs: [['a', [3, 40]]],
      initializers: [randomTensor('w', [16, 40], 1), randomTensor('c', [1, 16], 2)],
    });
    assert.deepEqual(opTypes(row.model), ['MatMulNBits']);
    const [full] = await check({
      nodes: () => [gemm(['a', 'w', 'c'])],
      inputs: [['a', [3, 40]]],
      initializers: [randomTensor('w', [40, 16], 1), randomTensor('c', [3, 16], 2)],
    });
    assert.deepEqual(opTypes(full.model), ['MatMulNBits', 'Add']);
    const [computed] = await check({
      nodes: () => [gemm(['a', 'w', 'c'], [Attribute.float('beta', 0.25)])],
      inputs: [
        ['a', [3, 40]],
        ['c', [3, 16]],
      ],
      initializers: [randomTensor('w', [40, 16], 1)],
    });
    assert.deepEqual(opTypes(computed.model), ['Mul', 'MatMulNBits', 'Add']);
    assert.match(computed.report.nodes[0].note, /bias as Add/);
  });

  it('batched activations: A [2, 5, K] times a 2-D weight', async () => {
    await check({
      nodes: () => [new Node('MatMul', ['a', 'w'], ['y'])],
      inputs: [['a', [2, 5, 64]]],
      initializers: [randomTensor('w', [64, 24], 1)],
    });
  });

  it('weights that are not constant 2-D float32 matrices are reported and left alone', () => {
    const m = build({
      nodes: () => [
        new Node('MatMul', ['a', 'b'], ['p'], { name: 'dynamic' }),
        new Node('MatMul', ['p', 'w3'], ['y'], { name: 'batched' }),
      ],
      inputs: [
        ['a', [2, 4, 8]],
        ['b', [8, 8]],
      ],
      initializers: [randomTensor('w3', [2, 8, 8], 1)],
    });
    const report = quantizeWeightOnly(m);
    assert.deepEqual(opTypes(m), ['MatMul', 'MatMul']);
    assert.deepEqual(
      report.nodes.map((n) => n.note),
      ["B 'b' is computed at run time, not a constant", "B 'w3' has rank 3; MatMulNBits takes a 2-D weight"],
    );
  });

  it('a shared weight is quantized once; one also read by a Gather (tied embedding) stays as well', async () => {
    const c: Case = {
      nodes: () => [
        new Node('MatMul', ['a', 'w'], ['p']),
        new Node('MatMul', ['p', 'w'], ['q']),
        new Node('Gather', ['w', 'i'], ['g']),
        new Node('Add', ['q', 'g'], ['y']),
      ],
      inputs: [['a', [2, 32]]],
      initializers: [
        randomTensor('w', [32, 32], 1, 0.2),
        Tensor.fromArray('i', 'int64', [1], BigInt64Array.of(3n)),
      ],
    };
    const [{ model: m, report }] = await check(c);
    assert.equal(report.nodes.filter((n) => n.done).length, 2);
    const names = [...m.graph.initializers.keys()].sort();
    assert.deepEqual(names, ['i', 'w', 'w_Q8', 'w_scales']);
    assert.equal(report.floatBytes, 32 * 32 * 4, 'the shared weight counted once');
  });

  it('NaN in a weight and bad options are one-line errors naming the tensor or option', () => {
    const w = randomTensor('w', [32, 8], 1);
    (w.toFloat32() as Float32Array)[17] = Number.NaN;
    const m = build({
      nodes: () => [new Node('MatMul', ['a', 'w'], ['y'])],
      inputs: [['a', [1, 32]]],
      initializers: [w],
    });
    assert.throws(
      () => quantizeWeightOnly(m),
      (e: Error) => e instanceof QuantkitError && /tensor 'w' has NaN/.test(e.message),
    );
    const bad: [WeightOnlyOptions, RegExp][] = [
      [{ bits: 5 }, /--bits must be 2, 3, 4, 8/],
      [{ bits: 3 }, /3-bit weights need --format qdq/],
      [{ algorithm: 'rtn', gptq: { damp: 0.1 } }, /--damp and --act-order are GPTQ settings/],
      [{ blockSize: 48 }, /--block-size must be a power of two from 16 to 256/],
      [{ algorithm: 'hqq', symmetric: true }, /HQQ .* asymmetric: drop --symmetric/],
      [{ format: 'qdq', bits: 2 }, /2-bit weights have no DequantizeLinear type/],
      [{ format: 'qdq', accuracyLevel: 4 }, /--accuracy-level is a MatMulNBits attribute/],
      [{ accuracyLevel: 5 }, /--accuracy-level must be/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => quantizeWeightOnly(build({ nodes: () => [], inputs: [], initializers: [] }), options),
        message,
      );
    }
  });
});
