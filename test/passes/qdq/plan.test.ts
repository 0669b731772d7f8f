import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferDtypes } from '../../../src/onnx/infer-dtypes.js';
import { planStatic } from '../../../src/passes/qdq/plan.js';
import { DEFAULT_PLAN } from '../../helpers/static-quant.js';
import { randomTensor, residualCnn } from '../../helpers/tiny-models.js';
import { Node } from '../../../src/onnx/node.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';

function plan(opts = DEFAULT_PLAN) {
  const m = residualCnn();
  return planStatic(m, inferDtypes(m), opts);
}

describe('static quantization plan', () => {
  it('quantizes compute ops, absorbs Relu, shares scales through pass-through ops', () => {
    const p = plan();
    const acts = Object.fromEntries([...p.activations.values()].map((a) => [a.name, a.sameAs ?? '']));
    assert.deepEqual(acts, { x: '', r1: '', p1: 'r1', c2: '', flat: 'gap', r2: '', gap: '' });
    assert.ok(!('c1' in acts), 'no Q/DQ between Conv and its Relu');
    assert.ok(!('s' in acts), 'no Q/DQ between Add and its Relu');
    assert.ok(!('logits' in acts), 'a Gemm feeding float ops keeps a float output');
    assert.ok(!('probs' in acts), 'Softmax after a float value is not quantized');
    const names = new Set([...p.nodes].map((n) => n.name));
    assert.deepEqual(
      [...names].sort(),
      ['add', 'conv1', 'conv2', 'fc', 'flatten', 'gap', 'pool', 'relu1', 'relu2'].sort(),
    );
  });

  it('plans per-channel weights on the output-channel axis and int32 biases', () => {
    const p = plan();
    const w = Object.fromEntries([...p.weights.values()].map((x) => [x.name, x.axis]));
    assert.deepEqual(w, { w1: 0, w2: 0, wf: 0 });
    assert.deepEqual(
      p.biases.map((b) => [b.node.name, b.bias, b.activation]),
      [
        ['conv1', 'b1', 'x'],
        ['conv2', 'b2', 'p1'],
        ['fc', 'bf', 'flat'],
      ],
    );
  });

  it('respects per-tensor, node exclusions and op-type lists', () => {
    const perTensor = plan({ ...DEFAULT_PLAN, perChannel: false });
    assert.ok([...perTensor.weights.values()].every((w) => w.axis === undefined));
    const noConv2 = plan({ ...DEFAULT_PLAN, filter: { excludeNodes: ['conv2'] } });
    const names = [...noConv2.nodes].map((n) => n.name);
    assert.ok(!names.includes('conv2'));
    assert.ok(!names.includes('add'), 'Add follows only when all its inputs are quantized');
    const onlyConv = plan({ ...DEFAULT_PLAN, opTypes: ['Conv'] });
    assert.deepEqual([...onlyConv.nodes].map((n) => n.name).sort(), ['conv1', 'conv2']);
  });

  it('pins Softmax outputs to [0, 1] when their input is quantized', () => {
    const m = residualCnn();
    // A MatMul reading the logits makes them a quantized activation, so the Softmax follows.
    m.graph.addInitializer(randomTensor('wm', [4, 4], 9));
    m.graph.addNode(new Node('MatMul', ['logits', 'wm'], ['extra'], { name: 'mm' }));
    m.graph.outputs.push(makeValueInfo('extra', 'float32', ['N', 4]));
    const p = planStatic(m, inferDtypes(m), DEFAULT_PLAN);
    assert.ok(p.activations.has('logits'));
    assert.deepEqual(p.activations.get('probs')?.fixedRange, [0, 1]);
  });
});
