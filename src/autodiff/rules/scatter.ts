/**
 * Gradients of operators that read elements by position (MaxPool's maxima, Slice, Gather): the same
 * reading applied to the flat positions of the input says where each element of dy came from, and
 * a scatter-add (ScatterElements with reduction 'add', opset 16) sends it back there.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { GradientContext } from '../gradient-model.js';

/** The flat element positions 0, 1, … of `x`, in `x`'s shape (int64). */
export function flatPositions(ctx: GradientContext, x: string): string {
  const range = ctx.op('Range', [ctx.int64s([0], true), ctx.op('Size', [x]), ctx.int64s([1], true)]);
  return ctx.op('Reshape', [range, ctx.shapeOf(x)]);
}

/**
 * Adds `dy` into a zero tensor shaped like `like`, at the flat element positions `positions`
 * (repeated positions accumulate): the adjoint of reading those elements.
 */
export function scatterAddFlat(ctx: GradientContext, positions: string, dy: string, like: string): string {
  const flat = ctx.int64s([-1]);
  const zeros = ctx.zeros(ctx.op('Reshape', [ctx.op('Size', [like]), flat]), like);
  const added = ctx.op(
    'ScatterElements',
    [zeros, ctx.op('Reshape', [positions, flat]), ctx.op('Reshape', [dy, flat])],
    [Attribute.int('axis', 0), Attribute.string('reduction', 'add')],
  );
  return ctx.op('Reshape', [added, ctx.shapeValue(like)]);
}
