/** Operators that move data without arithmetic: the gradient moves back the same way. */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { GradientContext, GradientRule } from '../gradient-model.js';
import { normAxis } from '../shapes.js';
import { flatPositions, scatterAddFlat } from './scatter.js';

/** Reshape, Flatten, Squeeze, Unsqueeze: dy takes the input's shape back. */
const reshapeBack: GradientRule = (node, [dy], ctx) => [
  ctx.op('Reshape', [dy!, ctx.shapeValue(node.inputs[0])]),
  ...node.inputs.slice(1).map(() => undefined),
];

const transpose: GradientRule = (node, [dy], ctx) => {
  if (!node.hasAttribute('perm')) return [ctx.op('Transpose', [dy!])];
  const perm = node.getInts('perm');
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return [ctx.op('Transpose', [dy!], [Attribute.ints('perm', inverse)])];
};

/** The sizes of `values` along `axis`: a constant when known statically. */
function sizesAlong(ctx: GradientContext, values: readonly string[], axis: number): string {
  const known = values.map((v) => {
    const s = ctx.shape(v);
    return s ? s[normAxis(axis, s.length)] : null;
  });
  if (known.every((d) => typeof d === 'number')) return ctx.int64s(known as number[]);
  const pick = ctx.int64s([axis]);
  const parts = values.map((v) => ctx.op('Gather', [ctx.shapeOf(v), pick]));
  return parts.length === 1 ? parts[0] : ctx.op('Concat', parts, [Attribute.int('axis', 0)]);
}

/** Concat: dy is split back into the inputs' extents along the axis. */
const concat: GradientRule = (node, [dy], ctx) => {
  const axis = node.getInt('axis');
  if (node.inputs.length === 1) return [dy];
  const parts = ctx.ops('Split', [dy!, sizesAlong(ctx, node.inputs, axis)], [Attribute.int('axis', axis)], {
    outputs: node.inputs.length,
  });
  return node.inputs.map((_, i) => (ctx.needsGradient(node, i) ? parts[i] : undefined));
};

/** Split: the outputs' gradients are concatenated back (zeros for outputs with none). */
const split: GradientRule = (node, dys, ctx) => {
  const axis = node.getInt('axis', 0);
  const parts = node.outputs.map((o, i) => dys[i] ?? ctx.zeros(ctx.shapeOf(o), node.inputs[0]));
  return [ctx.op('Concat', parts, [Attribute.int('axis', axis)]), undefined];
};

/**
 * Slice (any steps, negative ones included): slicing the flat positions of x the same way says where
 * each element of dy came from.
 */
const slice: GradientRule = (node, [dy], ctx) => {
  const x = node.inputs[0];
  const taken = ctx.op('Slice', [flatPositions(ctx, x), ...node.inputs.slice(1)]);
  return [scatterAddFlat(ctx, taken, dy!, x), ...node.inputs.slice(1).map(() => undefined)];
};

/** Dropout in inference form is the identity; in training form its mask is not reproducible here. */
const dropout: GradientRule = (node, [dy], ctx) => {
  const training = node.inputs[2];
  const constant = training ? ctx.graph.initializers.get(training) : undefined;
  if (training && !(constant && Number((constant.data() as ArrayLike<number>)[0]) === 0)) {
    throw new QuantkitError(
      `${node.label}: Dropout in training mode has no gradient rule; remove it or set training_mode false`,
    );
  }
  return [dy, undefined, undefined];
};

export const SHAPE_RULES: Record<string, GradientRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Dropout: dropout,
};
