/** Softmax and LogSoftmax over one axis (the opset-13 form). */
import type { GradientRule } from '../gradient-model.js';

/** dx = y·(dy − Σ_axis dy·y) */
const softmax: GradientRule = (node, [dy], ctx) => {
  const y = node.outputs[0];
  const axis = node.getInt('axis', -1);
  const dot = ctx.reduceSum(ctx.op('Mul', [dy!, y]), [axis], true);
  return [ctx.op('Mul', [y, ctx.op('Sub', [dy!, dot])])];
};

/** dx = dy − exp(y)·Σ_axis dy */
const logSoftmax: GradientRule = (node, [dy], ctx) => {
  const y = node.outputs[0];
  const axis = node.getInt('axis', -1);
  const total = ctx.reduceSum(dy!, [axis], true);
  return [ctx.op('Sub', [dy!, ctx.op('Mul', [ctx.op('Exp', [y]), total])])];
};

export const SOFTMAX_RULES: Record<string, GradientRule> = { Softmax: softmax, LogSoftmax: logSoftmax };
