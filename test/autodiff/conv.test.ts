import { describe, it } from 'node:test';
import { Attribute } from '../../src/onnx/attribute.js';
import { checkOneNode, type OperandSpec } from './gradient-check.js';

const param = (name: string, shape: number[]): OperandSpec => ({ name, shape, role: 'param' });

// ONNX Runtime's CPU build runs Conv and ConvTranspose in float32 only. The loss Σ Conv(x, W)·R is
// linear in x and in W separately, so a central difference is exact for any step: with h = 0.5
// only float32 rounding remains (~6e-8·|loss|/h, about 1e-6 of the gradient here).
const LINEAR = { h: 0.5, tolerance: 1e-3, maxElements: 64 };

interface ConvCase {
  label: string;
  x: number[];
  w: number[];
  attrs: Record<string, number[] | number | string>;
  bias?: boolean;
}

const cases: ConvCase[] = [
  { label: '3x3, pads 1', x: [2, 3, 6, 6], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, bias: true },
  {
    label: 'stride 2 with a remainder (7 wide)',
    x: [2, 2, 7, 7],
    w: [3, 2, 3, 3],
    attrs: { strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  { label: 'stride 2, no padding, 8 wide', x: [1, 2, 8, 8], w: [3, 2, 3, 3], attrs: { strides: [2, 2] } },
  {
    label: 'stride 2, pads 1, 6 wide (the end pad cuts into the last window)',
    x: [2, 2, 6, 6],
    w: [2, 2, 3, 3],
    attrs: { strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    label: 'stride 3 x 2, asymmetric pads',
    x: [2, 2, 9, 7],
    w: [2, 2, 2, 3],
    attrs: { strides: [3, 2], pads: [0, 1, 2, 0] },
  },
  { label: 'dilation 2', x: [1, 2, 9, 9], w: [3, 2, 3, 3], attrs: { dilations: [2, 2], pads: [2, 2, 2, 2] } },
  {
    label: 'dilation 2 with stride 2',
    x: [2, 2, 10, 9],
    w: [2, 2, 3, 2],
    attrs: { dilations: [2, 1], strides: [2, 2], pads: [1, 0, 1, 1] },
  },
  {
    label: 'groups 2',
    x: [2, 4, 6, 6],
    w: [6, 2, 3, 3],
    attrs: { group: 2, pads: [1, 1, 1, 1] },
    bias: true,
  },
  {
    label: 'depthwise, stride 2',
    x: [2, 3, 7, 7],
    w: [3, 1, 3, 3],
    attrs: { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    label: 'depthwise multiplier 2, dilation 2',
    x: [1, 2, 8, 8],
    w: [4, 1, 3, 3],
    attrs: { group: 2, dilations: [2, 2] },
  },
  { label: '1x1 pointwise', x: [2, 4, 5, 5], w: [3, 4, 1, 1], attrs: {}, bias: true },
  {
    label: 'auto_pad SAME_UPPER, stride 2',
    x: [1, 2, 7, 6],
    w: [2, 2, 3, 3],
    attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  },
  // From 8 input channels per group on, the weight gradient takes its per-offset form.
  {
    label: '8 channels, 3x3, stride 2, pads 1',
    x: [2, 8, 6, 5],
    w: [3, 8, 3, 3],
    attrs: { strides: [2, 2], pads: [1, 1, 1, 1] },
    bias: true,
  },
  {
    label: '8 channels per group, groups 2, dilation 2',
    x: [1, 16, 7, 7],
    w: [4, 8, 3, 3],
    attrs: { group: 2, dilations: [2, 2], pads: [1, 2, 1, 0] },
  },
  { label: '8 channels, 1x1 stride 2', x: [2, 8, 5, 5], w: [4, 8, 1, 1], attrs: { strides: [2, 2] } },
  {
    label: '1-D, stride 2, groups 2',
    x: [2, 4, 11],
    w: [4, 2, 3],
    attrs: { strides: [2], pads: [1, 1], group: 2 },
    bias: true,
  },
];

function attributes(attrs: ConvCase['attrs']): Attribute[] {
  return Object.entries(attrs).map(([k, v]) =>
    typeof v === 'string'
      ? Attribute.string(k, v)
      : Array.isArray(v)
        ? Attribute.ints(k, v)
        : Attribute.int(k, v),
  );
}

describe('autodiff: Conv (float32, central differences in ONNX Runtime)', () => {
  for (const c of cases) {
    it(`Conv ${c.label}: input, weight${c.bias ? ' and bias' : ''}`, async () => {
      await checkOneNode(
        {
          op: 'Conv',
          dtype: 'float32',
          operands: [param('x', c.x), param('w', c.w), ...(c.bias ? [param('b', [c.w[0]])] : [])],
          attributes: attributes(c.attrs),
        },
        LINEAR,
      );
    });
  }
});

describe('autodiff: Conv with batch and spatial sizes known only at run time', () => {
  for (const c of [cases[3], cases[4], cases[7], cases[8], cases[12], cases[13]]) {
    it(`Conv ${c.label}, input declared [N, C, H, W]`, async () => {
      await checkOneNode(
        {
          op: 'Conv',
          dtype: 'float32',
          operands: [
            { name: 'x', shape: c.x, role: 'fed', declared: ['N', c.x[1], 'H', 'W'] },
            param('w', c.w),
            ...(c.bias ? [param('b', [c.w[0]])] : []),
          ],
          attributes: attributes(c.attrs),
        },
        LINEAR,
      );
    });
  }
});
