// The QDQ form raises the default-domain opset to 21 only when no operator of the model would change
// meaning, and otherwise refuses before touching the model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuantkitError } from '../../../src/errors.js';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { quantizeWeightOnly } from '../../../src/passes/weight-only/quantize-weight-only.js';
import { randomTensor } from '../../helpers/tiny-models.js';
import { floatInput, opTypes, outputCosine } from './models.js';

/** x[4, 64] → MatMul → `then` → y, at `opset`. */
function model(opset: number, then: (h: string) => Node[]): Model {
  const tail = then('h');
  const graph = makeGraph({
    nodes: [new Node('MatMul', ['x', 'w'], ['h'], { name: 'mm' }), ...tail],
    inputs: [makeValueInfo('x', 'float32', [4, 64])],
    outputs: [makeValueInfo('y', 'float32')],
    initializers: [
      randomTensor('w', [64, 32], 1, 0.2),
      randomTensor('scale', [32], 2),
      randomTensor('shift', [32], 3),
      randomTensor('mean', [32], 4, 0.1),
      randomTensor('var', [32], 5, 0.1),
    ],
  });
  return makeModel(graph, { opsets: { '': opset } });
}

const refused = (pattern: RegExp) => (e: unknown) => e instanceof QuantkitError && pattern.test(e.message);

describe('QDQ form and the model opset', () => {
  it('opset 13 → 21 when every operator reads the same (Softmax-13, inference BatchNormalization)', async () => {
    const make = () =>
      model(13, (h) => [
        new Node('Abs', ['var'], ['variance']),
        new Node('BatchNormalization', [h, 'scale', 'shift', 'mean', 'variance'], ['b']),
        new Node('Softmax', ['b'], ['y'], { attributes: [Attribute.int('axis', 1)] }),
      ]);
    const m = make();
    const report = quantizeWeightOnly(m, { format: 'qdq', bits: 8 });
    assert.deepEqual(report.opset, { from: 13, to: 21 });
    assert.equal(m.opset(''), 21);
    assert.ok(m.irVersion >= 10);
    assert.ok((await outputCosine(make(), m, floatInput('x', [4, 64]))) > 0.9999);
  });

  it('refuses, naming the operators, when raising would change one; the model is left as it was', () => {
    const cases: [number, (h: string) => Node[], RegExp][] = [
      [
        17,
        (h) => [new Node('ReduceMean', [h], ['y'], { attributes: [Attribute.ints('axes', [1])] })],
        /ReduceMean \(changed in opset 18\)/,
      ],
      [12, (h) => [new Node('Softmax', [h], ['y'])], /Softmax \(changed in opset 13\)/],
      [
        17,
        (h) => [new Node('Split', [h], ['y', 'z'], { attributes: [Attribute.int('axis', 1)] })],
        /Split \(changed in opset 18\)/,
      ],
      [9, (h) => [new Node('Relu', [h], ['y'])], /opset 9 is too old to raise safely/],
    ];
    for (const [opset, tail, message] of cases) {
      const m = model(opset, tail);
      const before = opTypes(m);
      assert.throws(() => quantizeWeightOnly(m, { format: 'qdq' }), refused(message));
      assert.deepEqual(opTypes(m), before);
      assert.equal(m.opset(''), opset);
    }
  });

  it('a model at opset 21 or later keeps its opset; MatMulNBits never changes it', () => {
    const at21 = model(21, (h) => [new Node('Relu', [h], ['y'])]);
    assert.equal(quantizeWeightOnly(at21, { format: 'qdq' }).opset, undefined);
    assert.equal(at21.opset(''), 21);
    const old = model(12, (h) => [new Node('Softmax', [h], ['y'])]);
    quantizeWeightOnly(old);
    assert.equal(old.opset(''), 12);
    assert.equal(old.opset('com.microsoft'), 1);
  });
});
