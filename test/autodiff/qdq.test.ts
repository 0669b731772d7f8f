import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGradientModel } from '../../src/autodiff/gradient-model.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';

// Rounding has zero derivative almost everywhere, so finite differences cannot check the
// straight-through estimator; the reference is its definition: d loss/dx = R where
// qmin ≤ round(x/s) + z ≤ qmax, and 0 where the value was clipped.
describe('autodiff: QuantizeLinear → DequantizeLinear (straight-through estimator)', () => {
  const x = Float32Array.of(-3, -1.26, -0.4, 0, 0.3, 0.74, 1.2, 2.6);
  const r = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);

  async function gradient(
    scale: Tensor,
    zeroPoint: Tensor,
    xShape: number[],
    axis?: number,
  ): Promise<Float32Array> {
    const attrs = axis === undefined ? [] : [Attribute.int('axis', axis)];
    const model = makeModel(
      makeGraph({
        nodes: [
          new Node('QuantizeLinear', ['x', 's', 'z'], ['q'], { attributes: attrs }),
          new Node('DequantizeLinear', ['q', 's', 'z'], ['dq'], { attributes: attrs }),
          new Node('Mul', ['dq', 'r'], ['w']),
          new Node('ReduceSum', ['w'], ['loss'], { attributes: [Attribute.int('keepdims', 0)] }),
        ],
        inputs: [],
        outputs: [makeValueInfo('loss', 'float32', [])],
        initializers: [
          Tensor.fromArray('x', 'float32', xShape, x),
          Tensor.fromArray('r', 'float32', xShape, r),
          scale,
          zeroPoint,
        ],
      }),
      { opsets: { '': 17 } },
    );
    const { model: gm, gradients } = buildGradientModel(model, { loss: 'loss', parameters: ['x'] });
    const runner = await Runner.create(gm);
    const out = await runner.run({ x: { dtype: 'float32', shape: xShape, data: x } });
    await runner.release();
    return out[gradients.get('x')!].data as Float32Array;
  }

  it('int8, per tensor: zero where round(x/s) + z leaves [-128, 127]', async () => {
    // s = 0.01, z = 10: levels are round(100x) + 10; in range for x ∈ [-1.38, 1.17].
    const g = await gradient(
      Tensor.fromArray('s', 'float32', [], Float32Array.of(0.01)),
      Tensor.fromArray('z', 'int8', [], Int8Array.of(10)),
      [8],
    );
    assert.deepEqual(Array.from(g), [0, 2, 3, 4, 5, 6, 0, 0]);
  });

  it('uint8, per channel along axis 0', async () => {
    // Row 0: s = 0.01, z = 128 → in range for x ∈ [-1.28, 1.27]; row 1: s = 0.005, z = 0 → x ∈ [0, 1.2749].
    const g = await gradient(
      Tensor.fromArray('s', 'float32', [2], Float32Array.of(0.01, 0.005)),
      Tensor.fromArray('z', 'uint8', [2], Uint8Array.of(128, 0)),
      [2, 4],
      0,
    );
    assert.deepEqual(Array.from(g), [0, 2, 3, 4, 5, 6, 7, 0]);
  });
});
