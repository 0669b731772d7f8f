/**
 * QuantizeLinear → DequantizeLinear pairs with the straight-through estimator: rounding is treated as
 * the identity, so x receives dy wherever round(x/s) + z falls inside the integer range and nothing
 * where it was clipped. The gradient reaching the integer value between the two nodes is that of the
 * dequantized value (the convention the two rules share); scales and zero points get none here —
 * learned scales (LSQ, PACT) belong to the fake-quantization operator.
 */
import { QuantkitError } from '../../errors.js';
import type { Node } from '../../onnx/node.js';
import type { DType } from '../../tensor/dtype.js';
import type { GradientContext, GradientRule } from '../gradient-model.js';
import { normAxis } from '../shapes.js';

const INTEGER_RANGE: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint4: [0, 15],
  int4: [-8, 7],
  uint2: [0, 3],
  int2: [-2, 1],
};

const dequantize: GradientRule = (node, [dy], ctx) => {
  const producer = ctx.graph.producer(node.inputs[0]);
  if (!producer || producer.opType !== 'QuantizeLinear' || !producer.isStandard) {
    throw new QuantkitError(
      `${node.label}: autodiff differentiates DequantizeLinear only right after a QuantizeLinear (a fake-quantization pair)`,
    );
  }
  return [dy, undefined, undefined];
};

/** Per-axis scales and zero points reshaped to broadcast against x along `axis`. */
function alongAxis(ctx: GradientContext, node: Node, v: string, x: string): string {
  if (ctx.rank(v) !== 1) return v;
  const rank = ctx.rank(x);
  if (rank === undefined)
    throw new QuantkitError(`${node.label}: the rank of '${x}' is unknown; declare its shape`);
  const shape = new Array<number>(rank).fill(1);
  shape[normAxis(node.getInt('axis', 1), rank)] = -1;
  return ctx.op('Reshape', [v, ctx.int64s(shape)]);
}

const quantize: GradientRule = (node, [dq], ctx) => {
  if (node.getInt('block_size', 0) !== 0) {
    throw new QuantkitError(`${node.label}: blocked QuantizeLinear has no straight-through gradient rule`);
  }
  const [x, scale, zeroPoint] = node.inputs;
  const qtype = ctx.dtype(node.outputs[0]);
  const range = qtype && INTEGER_RANGE[qtype];
  if (!range)
    throw new QuantkitError(
      `${node.label}: no straight-through gradient for QuantizeLinear to ${qtype ?? 'an unknown type'}`,
    );
  let level = ctx.op('Round', [ctx.op('Div', [x, alongAxis(ctx, node, ctx.castLike(scale, x), x)])]);
  if (zeroPoint) level = ctx.op('Add', [level, alongAxis(ctx, node, ctx.castLike(zeroPoint, x), x)]);
  const clipped = ctx.op('Or', [
    ctx.op('Less', [level, ctx.floatConstant(range[0], x)]),
    ctx.op('Greater', [level, ctx.floatConstant(range[1], x)]),
  ]);
  return [ctx.op('Where', [clipped, ctx.floatConstant(0, x), dq!]), undefined, undefined];
};

export const QDQ_RULES: Record<string, GradientRule> = {
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
};
