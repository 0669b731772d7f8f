import { describe, it } from 'node:test';
import { Attribute } from '../../src/onnx/attribute.js';
import { checkOneNode, type OperandSpec } from './gradient-check.js';

const param = (name: string, shape: number[], lo = -2, hi = 2): OperandSpec => ({
  name,
  shape,
  role: 'param',
  lo,
  hi,
});

describe('autodiff: activations (central differences in ONNX Runtime)', () => {
  for (const op of ['Relu', 'Sigmoid', 'Tanh']) {
    it(`${op} (float64)`, async () => {
      await checkOneNode({ op, dtype: 'float64', operands: [param('x', [3, 7])] });
    });
  }

  it('LeakyRelu with alpha 0.2 (float64)', async () => {
    await checkOneNode({
      op: 'LeakyRelu',
      dtype: 'float64',
      operands: [param('x', [3, 7])],
      attributes: [Attribute.float('alpha', 0.2)],
    });
  });

  // ONNX Runtime's CPU build has Erf (and so Gelu) for float32 only. The loss is a weighted sum of
  // 21 values of size ≤ 1; with h = 1e-2, float32 rounding contributes ~6e-8·21/1e-2 ≈ 1e-4 and the
  // h² truncation term ~2e-5, so 1e-3 still separates a right gradient from a wrong one.
  it('Erf (float32)', async () => {
    await checkOneNode({ op: 'Erf', dtype: 'float32', operands: [param('x', [3, 7])] }, { h: 1e-2 });
  });

  for (const approximate of ['none', 'tanh']) {
    it(`Gelu-20 approximate=${approximate} (float32)`, async () => {
      await checkOneNode(
        {
          op: 'Gelu',
          dtype: 'float32',
          opset: 20,
          operands: [param('x', [3, 7], -3, 3)],
          attributes: [Attribute.string('approximate', approximate)],
        },
        { h: 1e-2 },
      );
    });
  }

  it('Clip with min and max as parameters (float64)', async () => {
    await checkOneNode({
      op: 'Clip',
      dtype: 'float64',
      operands: [param('x', [4, 6]), param('lo', [], -1, -0.5), param('hi', [], 0.5, 1)],
    });
  });

  it('Clip with only a max (float64)', async () => {
    await checkOneNode({
      op: 'Clip',
      dtype: 'float64',
      operands: [param('x', [4, 6]), '', param('hi', [], 0.5, 1)],
    });
  });

  for (const op of ['Softmax', 'LogSoftmax']) {
    for (const axis of [-1, 1, 0]) {
      it(`${op} axis ${axis} (float64)`, async () => {
        await checkOneNode({
          op,
          dtype: 'float64',
          operands: [param('x', [2, 3, 4])],
          attributes: [Attribute.int('axis', axis)],
        });
      });
    }
  }
});
