// AWQ's rewrite keeps the float model's function: the weights' input channels times s, 1/s folded
// into the producer (LayerNormalization, Mul by a constant, MatMul + Add) or an inserted Mul, checked
// by running both models in ONNX Runtime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import { cloneModel } from '../../../src/onnx/clone.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { Tensor } from '../../../src/onnx/tensor.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { applyChannelScales } from '../../../src/passes/weight-only/awq-scaling.js';
import { createRng } from '../../../src/tensor/random.js';
import { randomInput, randomTensor } from '../../helpers/tiny-models.js';
import { outputDiff, runModel } from '../dynamic/compare.js';

const K = 16;
const X = { x: { dtype: 'float32' as const, shape: [2, 3, K], data: randomInput([2, 3, K], 1) } };

function scales(): Float32Array {
  const rng = createRng(7);
  return Float32Array.from({ length: K }, () => 0.25 + 3 * rng.nextFloat());
}

function model(nodes: Node[], outputs: string[], initializers: ReturnType<typeof randomTensor>[]): Model {
  return makeModel(
    makeGraph({
      nodes,
      inputs: [makeValueInfo('x', 'float32', [2, 3, K])],
      outputs: outputs.map((o) => makeValueInfo(o, o === 'shape' ? 'int64' : 'float32')),
      initializers,
    }),
    { opsets: { '': 17 } },
  );
}

/** Applies the scales to the group reading `value`: the note, the op types, the largest output difference. */
async function scaled(m: Model, value: string, members: string[]) {
  const copy = cloneModel(m);
  const g = copy.graph;
  const nodes = members.map((name) => g.nodes.find((n) => n.name === name)!);
  const note = applyChannelScales(g, value, nodes, scales());
  g.sortTopologically();
  const [[before], [after]] = [await runModel(m, [X]), await runModel(copy, [X])];
  let worst = 0;
  for (const o of m.graph.outputs) {
    if (o.name === 'shape') assert.deepEqual(after.shape.data, before.shape.data);
    else worst = Math.max(worst, outputDiff(before[o.name], after[o.name]).maxAbsDiff);
  }
  return { note, ops: g.nodes.map((n) => n.opType), worst, copy };
}

describe('AWQ channel scales', () => {
  it('q/k projections after LayerNormalization (whose shape is also read): folded into its scale and bias', async () => {
    const m = model(
      [
        new Node('LayerNormalization', ['x', 'gamma', 'beta'], ['ln'], {
          name: 'ln',
          attributes: [Attribute.int('axis', -1)],
        }),
        new Node('Shape', ['ln'], ['shape']),
        new Node('MatMul', ['ln', 'wq'], ['q'], { name: 'q' }),
        new Node('MatMul', ['ln', 'wk'], ['k'], { name: 'k' }),
      ],
      ['q', 'k', 'shape'],
      [
        randomTensor('gamma', [K], 2),
        randomTensor('beta', [K], 3),
        randomTensor('wq', [K, 8], 4),
        randomTensor('wk', [K, 8], 5),
      ],
    );
    const r = await scaled(m, 'ln', ['q', 'k']);
    assert.match(r.note, /folded into LayerNormalization 'ln'/);
    assert.ok(!r.ops.includes('Mul'));
    assert.ok(r.worst < 1e-5, `${r.worst}`);
    const gamma = r.copy.graph.initializers.get('gamma')!.toFloat32();
    const s = scales();
    const original = m.graph.initializers.get('gamma')!.toFloat32();
    for (let i = 0; i < K; i++) assert.equal(gamma[i], Math.fround(original[i] / s[i]));
  });

  it('after a Mul by a scalar constant (GELU’s ×0.5): the constant becomes one value per channel', async () => {
    const m = model(
      [
        new Node('Mul', ['x', 'half'], ['m'], { name: 'mul' }),
        new Node('MatMul', ['m', 'w'], ['y'], { name: 'fc' }),
      ],
      ['y'],
      [randomTensor('half', [], 2), randomTensor('w', [K, 8], 3)],
    );
    const r = await scaled(m, 'm', ['fc']);
    assert.match(r.note, /folded into Mul 'mul'/);
    assert.deepEqual(r.copy.graph.initializers.get('half')!.dims, [K]);
    assert.ok(r.worst < 1e-5, `${r.worst}`);
  });

  it("after MatMul + Add of a bias: the previous weight's output columns and the bias", async () => {
    const m = model(
      [
        new Node('MatMul', ['x', 'w1'], ['h0'], { name: 'fc1' }),
        new Node('Add', ['h0', 'b1'], ['h'], { name: 'bias1' }),
        new Node('MatMul', ['h', 'w2'], ['y'], { name: 'fc2' }),
      ],
      ['y'],
      [randomTensor('w1', [K, K], 2), randomTensor('b1', [K], 3), randomTensor('w2', [K, 8], 4)],
    );
    const r = await scaled(m, 'h', ['fc2']);
    assert.match(r.note, /output columns of MatMul 'fc1'/);
    assert.ok(r.worst < 1e-5, `${r.worst}`);
  });

  it("after SwiGLU's silu(gate)·up: up's output columns; the gate, read by Sigmoid too, is left alone", async () => {
    const m = model(
      [
        new Node('MatMul', ['x', 'wg'], ['g'], { name: 'gate' }),
        new Node('Sigmoid', ['g'], ['sg']),
        new Node('Mul', ['g', 'sg'], ['silu']),
        new Node('MatMul', ['x', 'wu'], ['u'], { name: 'up' }),
        new Node('Mul', ['silu', 'u'], ['h'], { name: 'glu' }),
        new Node('MatMul', ['h', 'wd'], ['y'], { name: 'down' }),
      ],
      ['y'],
      [randomTensor('wg', [K, K], 2), randomTensor('wu', [K, K], 3), randomTensor('wd', [K, 8], 4)],
    );
    const r = await scaled(m, 'h', ['down']);
    assert.match(r.note, /output columns of MatMul 'up' \(a factor of Mul 'glu'\)/);
    assert.equal(r.ops.filter((op) => op === 'Mul').length, 2, 'no Mul inserted');
    assert.ok(r.worst < 1e-5, `${r.worst}`);
  });

  it('behind a Reshape (nothing to fold into), a Gemm with transB: an inserted Mul', async () => {
    const m = model(
      [
        new Node('Relu', ['x'], ['r'], { name: 'relu' }),
        new Node('Gemm', ['r2', 'w', 'b'], ['y'], { name: 'fc', attributes: [Attribute.int('transB', 1)] }),
        new Node('Reshape', ['r', 'flat'], ['r2']),
      ],
      ['y', 'r'],
      [randomTensor('w', [8, K], 2), randomTensor('b', [8], 3)],
    );
    m.graph.addInitializer(Tensor.fromArray('flat', 'int64', [2], BigInt64Array.of(-1n, BigInt(K))));
    m.graph.sortTopologically();
    const r = await scaled(m, 'r2', ['fc']);
    assert.match(r.note, /inserted Mul/);
    assert.ok(r.ops.includes('Mul'));
    assert.ok(r.worst < 1e-5, `${r.worst}`);
  });
});
