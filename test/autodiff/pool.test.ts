import { describe, it } from 'node:test';
import { Attribute } from '../../src/onnx/attribute.js';
import { checkOneNode, type OperandSpec } from './gradient-check.js';

const param = (name: string, shape: number[]): OperandSpec => ({ name, shape, role: 'param' });
const fed = (name: string, shape: number[]): OperandSpec => ({
  name,
  shape,
  role: 'fed',
  declared: ['N', shape[1], ...shape.slice(2).map((_, i) => `S${i}`)],
});

function attrs(a: Record<string, number[] | number>): Attribute[] {
  return Object.entries(a).map(([k, v]) => (Array.isArray(v) ? Attribute.ints(k, v) : Attribute.int(k, v)));
}

describe('autodiff: pooling (central differences in ONNX Runtime)', () => {
  // MaxPool runs in float64. Random inputs have distinct values, so each window's maximum is unique
  // and the loss is differentiable at the evaluation point.
  const maxCases: [string, number[], Record<string, number[] | number>][] = [
    ['2x2 stride 2', [2, 3, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }],
    [
      '3x3 stride 1 (overlapping windows), pads 1',
      [1, 2, 5, 5],
      { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    ],
    [
      '3x3 stride 2, dilation 2, ceil_mode',
      [1, 2, 9, 8],
      { kernel_shape: [3, 3], strides: [2, 2], dilations: [2, 2], ceil_mode: 1 },
    ],
  ];
  for (const [label, shape, a] of maxCases) {
    it(`MaxPool ${label} (float64)`, async () => {
      await checkOneNode({
        op: 'MaxPool',
        dtype: 'float64',
        operands: [param('x', shape)],
        attributes: attrs(a),
      });
    });
  }

  // Disjoint windows in float32 take the MaxUnpool path. The input is a shuffle of values 0.1 apart,
  // so no maximum changes within ±h = 0.01 and the loss is linear there: the central difference is
  // exact but for float32 rounding (~6e-8·|loss|/h ≈ 1e-5 of the gradient).
  const disjoint: [string, Record<string, number[] | number>][] = [
    ['2x2 stride 2', { kernel_shape: [2, 2], strides: [2, 2] }],
    [
      '2x2 stride 3, dilation 2, ceil_mode',
      { kernel_shape: [2, 2], strides: [3, 3], dilations: [2, 2], ceil_mode: 1 },
    ],
  ];
  for (const [label, a] of disjoint) {
    it(`MaxPool ${label} (float32, disjoint windows)`, async () => {
      const shape = [2, 2, 7, 6];
      const n = shape.reduce((p, q) => p * q, 1);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = ((i * 37) % n) * 0.1 - n * 0.05;
      await checkOneNode(
        {
          op: 'MaxPool',
          dtype: 'float32',
          operands: [
            {
              name: 'x',
              shape,
              role: 'fed',
              declared: ['N', 2, 7, 6],
              values: { dtype: 'float32', shape, data: values },
            },
          ],
          attributes: attrs(a),
        },
        { h: 0.01, maxElements: 84 },
      );
    });
  }

  it('MaxPool with its Indices output already used, batch known at run time', async () => {
    await checkOneNode({
      op: 'MaxPool',
      dtype: 'float64',
      outputs: ['y', 'idx'],
      operands: [fed('x', [2, 2, 4, 4])],
      attributes: attrs({ kernel_shape: [2, 2], strides: [2, 2] }),
    });
  });

  // AveragePool and GlobalAveragePool run in float32 only; both are linear, so (as for Conv) a large
  // step leaves only float32 rounding in the central difference.
  const LINEAR = { h: 0.5, maxElements: 64 };
  const avgCases: [string, number[], Record<string, number[] | number>][] = [
    ['2x2 stride 2', [2, 2, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }],
    ['3x3 stride 2 with a remainder', [1, 2, 8, 7], { kernel_shape: [3, 3], strides: [2, 2] }],
    ['3x3 pads 1, count_include_pad=0', [1, 2, 5, 6], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }],
    [
      '3x3 pads 1 stride 2, count_include_pad=1',
      [2, 1, 7, 7],
      { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1 },
    ],
  ];
  for (const [label, shape, a] of avgCases) {
    it(`AveragePool ${label} (float32)`, async () => {
      await checkOneNode(
        { op: 'AveragePool', dtype: 'float32', operands: [param('x', shape)], attributes: attrs(a) },
        LINEAR,
      );
    });
  }

  it('AveragePool 3x3 stride 2 pads 1, sizes known at run time (float32)', async () => {
    await checkOneNode(
      {
        op: 'AveragePool',
        dtype: 'float32',
        operands: [fed('x', [2, 2, 7, 6])],
        attributes: attrs({ kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }),
      },
      LINEAR,
    );
  });

  it('GlobalAveragePool, static and run-time sizes (float32)', async () => {
    await checkOneNode(
      { op: 'GlobalAveragePool', dtype: 'float32', operands: [param('x', [2, 3, 4, 5])] },
      LINEAR,
    );
    await checkOneNode(
      { op: 'GlobalAveragePool', dtype: 'float32', operands: [fed('x', [2, 3, 4, 5])] },
      LINEAR,
    );
  });
});
