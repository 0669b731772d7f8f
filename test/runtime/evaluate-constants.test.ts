import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuantkitError } from '../../src/errors.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { evaluateConstants } from '../../src/runtime/evaluate-constants.js';

/** a·a, Shape(a) and Cast(a·a) are constant; x + a·a is not. */
function model(aIsInput = false): Model {
  return makeModel(
    makeGraph({
      nodes: [
        new Node('Add', ['x', 'sq'], ['y']),
        new Node('Mul', ['a', 'a'], ['sq']),
        new Node('Shape', ['a'], ['shape']),
        new Node('Cast', ['sq'], ['sq_int'], { attributes: [Attribute.int('to', 6)] }),
      ],
      inputs: [makeValueInfo('x', 'float32', [3]), ...(aIsInput ? [makeValueInfo('a', 'float32', [3])] : [])],
      outputs: [makeValueInfo('y', 'float32', [3])],
      initializers: [Tensor.fromArray('a', 'float32', [3], Float32Array.of(1, 2, -3))],
    }),
    { opsets: { '': 13 } },
  );
}

describe('evaluateConstants', () => {
  it('computes constant values in ONNX Runtime and leaves the model as it was', async () => {
    const m = model();
    const nodes = [...m.graph.nodes];
    const out = await evaluateConstants(m, ['sq_int', 'shape', 'sq']);
    assert.deepEqual(out.sq, { dtype: 'float32', shape: [3], data: Float32Array.of(1, 4, 9) });
    assert.deepEqual(out.shape, { dtype: 'int64', shape: [1], data: BigInt64Array.of(3n) });
    assert.deepEqual(out.sq_int, { dtype: 'int32', shape: [3], data: Int32Array.of(1, 4, 9) });
    assert.deepEqual(m.graph.nodes, nodes);
    assert.ok(m.graph.nodes.every((n) => n.graph === m.graph));
  });

  it('refuses values that depend on graph inputs, overridable initializers included', async () => {
    await assert.rejects(
      evaluateConstants(model(), ['y']),
      (e: unknown) => e instanceof QuantkitError && /'x' is not a constant/.test(e.message),
    );
    await assert.rejects(
      evaluateConstants(model(true), ['sq']),
      (e: unknown) => e instanceof QuantkitError && /'a' is not a constant/.test(e.message),
    );
  });
});
