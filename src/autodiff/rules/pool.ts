/** Pooling. */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { GradientRule } from '../gradient-model.js';
import { scatterAddFlat } from './scatter.js';
import { transposedWindow, windowOf } from './window.js';

/**
 * MaxPool routes dy to the maximum of each window. Its optional Indices output gives the flat
 * position (over N·C·spatial) of each maximum, so the forward node is asked for it. When windows
 * cannot overlap, no position receives twice and MaxUnpool places dy there (float32 only in ONNX
 * Runtime; ~2× faster than the general scatter-add).
 */
const maxPool: GradientRule = (node, [dy], ctx) => {
  if (node.getInt('storage_order', 0) !== 0) {
    throw new QuantkitError(
      `${node.label}: MaxPool with storage_order=1 (column-major indices) is not differentiable here`,
    );
  }
  const x = node.inputs[0];
  let indices = node.outputs[1];
  if (!indices) {
    indices = ctx.fresh(`${node.outputs[0]}_indices`);
    node.setOutputs([node.outputs[0], indices]);
  }
  const kernel = node.getInts('kernel_shape');
  const strides = node.getInts(
    'strides',
    kernel.map(() => 1),
  );
  const dilations = node.getInts(
    'dilations',
    kernel.map(() => 1),
  );
  const disjoint = kernel.every((k, i) => strides[i] >= (k - 1) * dilations[i] + 1);
  if (disjoint && ctx.dtype(x) === 'float32') {
    const attrs = [Attribute.ints('kernel_shape', kernel), Attribute.ints('strides', strides)];
    return [ctx.op('MaxUnpool', [dy!, indices, ctx.shapeValue(x)], attrs)];
  }
  return [scatterAddFlat(ctx, indices, dy!, x)];
};

/**
 * AveragePool spreads dy/count evenly over each window: a transposed convolution with a constant
 * kernel, applied to every (n, c) plane as its own image. Without count_include_pad the count differs
 * at the borders; it is the window sum of an all-ones image, computed once per shape.
 */
const averagePool: GradientRule = (node, [dy], ctx) => {
  if (node.getInt('ceil_mode', 0) !== 0) {
    throw new QuantkitError(
      `${node.label}: AveragePool with ceil_mode=1 has no gradient rule yet; use ceil_mode=0`,
    );
  }
  const x = node.inputs[0];
  const kernel = node.getInts('kernel_shape');
  const win = windowOf(node, ctx, kernel);
  const size = kernel.reduce((a, b) => a * b, 1);
  const padded = win.pads.some((p) => p > 0);
  const includePad = node.getInt('count_include_pad', 0) === 1 || !padded;
  const planes = (v: string) =>
    ctx.op(
      'Concat',
      [ctx.int64s([-1, 1]), ctx.op('Shape', [v], [Attribute.int('start', 2)])],
      [Attribute.int('axis', 0)],
    );
  const attrs = [
    Attribute.ints('strides', win.strides),
    Attribute.ints('dilations', win.dilations),
    Attribute.ints('pads', win.pads),
  ];
  let share = ctx.op('Reshape', [dy!, planes(dy!)]);
  const weight = ctx.floatConstant(new Array(size).fill(includePad ? 1 / size : 1), x, [1, 1, ...kernel]);
  if (!includePad) {
    const onesShape = ctx.op(
      'Concat',
      [ctx.int64s([1, 1]), ctx.op('Shape', [x], [Attribute.int('start', 2)])],
      [Attribute.int('axis', 0)],
    );
    const ones = ctx.op('Add', [ctx.zeros(onesShape, x), ctx.floatConstant(1, x)]);
    const count = ctx.op(
      'Conv',
      [ones, ctx.floatConstant(new Array(size).fill(1), x, [1, 1, ...kernel])],
      attrs,
    );
    share = ctx.op('Div', [share, count]);
  }
  return [ctx.op('Reshape', [transposedWindow(ctx, share, weight, win, 1, x), ctx.shapeValue(x)])];
};

/** GlobalAveragePool: dx = dy / (spatial size), broadcast over the spatial axes. */
const globalAveragePool: GradientRule = (node, [dy], ctx) => {
  const x = node.inputs[0];
  const count = ctx.op('Div', [ctx.castLike(ctx.op('Size', [x]), x), ctx.castLike(ctx.op('Size', [dy!]), x)]);
  return [ctx.op('Expand', [ctx.op('Div', [dy!, count]), ctx.shapeValue(x)])];
};

export const POOL_RULES: Record<string, GradientRule> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
};
