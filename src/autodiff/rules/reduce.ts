/** ReduceSum and ReduceMean: dy is broadcast back over the reduced axes (and divided by the count). */
import type { Node } from '../../onnx/node.js';
import type { GradientContext, GradientRule } from '../gradient-model.js';

/** The reduced axes as an int64 value (attribute or input), or undefined when every axis is reduced. */
function axesOf(node: Node, ctx: GradientContext): string | undefined {
  if (node.hasAttribute('axes')) return ctx.int64s(node.getInts('axes'));
  const axes = node.inputs[1];
  if (!axes) return undefined;
  const known = ctx.graph.initializers.get(axes);
  return known && known.size === 0 ? undefined : axes;
}

/** dy reshaped so that it broadcasts against x: the removed axes come back as size 1. */
function spread(node: Node, dy: string, ctx: GradientContext): string {
  const x = node.inputs[0];
  const axes = axesOf(node, ctx);
  const noop = axes === undefined && node.getInt('noop_with_empty_axes', 0) === 1;
  if (noop) return dy;
  const kept = node.getInt('keepdims', 1) === 1 || axes === undefined ? dy : ctx.op('Unsqueeze', [dy, axes]);
  return ctx.op('Expand', [kept, ctx.shapeValue(x)]);
}

const reduceSum: GradientRule = (node, [dy], ctx) => [spread(node, dy!, ctx), undefined];

const reduceMean: GradientRule = (node, [dy], ctx) => {
  const x = node.inputs[0];
  const y = node.outputs[0];
  const sx = ctx.shape(x);
  const sy = ctx.shape(y);
  const staticCount =
    sx && sy && [...sx, ...sy].every((d) => typeof d === 'number')
      ? (sx as number[]).reduce((a, b) => a * b, 1) / (sy as number[]).reduce((a, b) => a * b, 1)
      : undefined;
  const count =
    staticCount !== undefined
      ? ctx.floatConstant(staticCount, x)
      : ctx.op('Div', [ctx.castLike(ctx.op('Size', [x]), x), ctx.castLike(ctx.op('Size', [y]), x)]);
  // Divided before spreading: dy has the reduced (smaller) shape.
  return [spread(node, ctx.op('Div', [dy!, count]), ctx), undefined];
};

export const REDUCE_RULES: Record<string, GradientRule> = { ReduceSum: reduceSum, ReduceMean: reduceMean };
