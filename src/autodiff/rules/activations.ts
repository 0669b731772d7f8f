/** Pointwise activations: each gradient is dy times the derivative, written with forward values. */
import { QuantkitError } from '../../errors.js';
import type { GradientContext, GradientRule } from '../gradient-model.js';

/**
 * Relu passes dy where x > 0, i.e. where y > 0: reading the output, not the input, leaves ONNX
 * Runtime free to fuse the node into the one producing x, since nothing else needs x.
 */
const relu: GradientRule = (node, [dy], ctx) => {
  const y = node.outputs[0];
  return [ctx.op('Where', [ctx.op('Greater', [y, ctx.floatConstant(0, y)]), dy!, ctx.floatConstant(0, y)])];
};

/** As Relu; y > 0 exactly where x > 0 when alpha ≥ 0, so the output is read then too. */
const leakyRelu: GradientRule = (node, [dy], ctx) => {
  const a = node.getFloat('alpha', 0.01);
  const v = a >= 0 ? node.outputs[0] : node.inputs[0];
  const alpha = ctx.floatConstant(a, v);
  return [
    ctx.op('Where', [ctx.op('Greater', [v, ctx.floatConstant(0, v)]), dy!, ctx.op('Mul', [dy!, alpha])]),
  ];
};

/** dy·y·(1 − y) */
const sigmoid: GradientRule = (node, [dy], ctx) => {
  const y = node.outputs[0];
  return [ctx.op('Mul', [dy!, ctx.op('Mul', [y, ctx.op('Sub', [ctx.floatConstant(1, y), y])])])];
};

/** dy·(1 − y²) */
const tanh: GradientRule = (node, [dy], ctx) => {
  const y = node.outputs[0];
  return [ctx.op('Mul', [dy!, ctx.op('Sub', [ctx.floatConstant(1, y), ctx.op('Mul', [y, y])])])];
};

/** dy·(2/√π)·exp(−x²) */
const erf: GradientRule = (node, [dy], ctx) => {
  const x = node.inputs[0];
  const density = ctx.op('Exp', [ctx.op('Neg', [ctx.op('Mul', [x, x])])]);
  return [ctx.op('Mul', [dy!, ctx.op('Mul', [density, ctx.floatConstant(2 / Math.sqrt(Math.PI), x)])])];
};

/**
 * Gelu-20. Exact: y = x·Φ(x), y' = Φ(x) + x·φ(x). Tanh approximation: y = x/2·(1 + t),
 * t = tanh(√(2/π)·(x + 0.044715x³)), y' = (1 + t)/2 + x/2·(1 − t²)·√(2/π)·(1 + 3·0.044715x²).
 */
const gelu: GradientRule = (node, [dy], ctx) => {
  const x = node.inputs[0];
  const approximate = node.getString('approximate', 'none');
  const c = (v: number) => ctx.floatConstant(v, x);
  const mul = (...vs: string[]) => vs.reduce((a, b) => ctx.op('Mul', [a, b]));
  const add = (a: string, b: string) => ctx.op('Add', [a, b]);
  let slope: string;
  if (approximate === 'none') {
    const cdf = mul(c(0.5), add(c(1), ctx.op('Erf', [mul(x, c(Math.SQRT1_2))])));
    const pdf = mul(c(1 / Math.sqrt(2 * Math.PI)), ctx.op('Exp', [mul(c(-0.5), x, x)]));
    slope = add(cdf, mul(x, pdf));
  } else if (approximate === 'tanh') {
    const k = Math.sqrt(2 / Math.PI);
    const t = ctx.op('Tanh', [mul(c(k), add(x, mul(c(0.044715), x, x, x)))]);
    const inner = mul(c(k), add(c(1), mul(c(3 * 0.044715), x, x)));
    slope = add(mul(c(0.5), add(c(1), t)), mul(c(0.5), x, ctx.op('Sub', [c(1), mul(t, t)]), inner));
  } else {
    throw new QuantkitError(`${node.label}: Gelu approximate='${approximate}' is not a mode ONNX defines`);
  }
  return [mul(dy!, slope)];
};

/** Clip(x, min, max): x gets dy inside [min, max]; min and max get what falls below or above them. */
const clip: GradientRule = (node, [dy], ctx) => {
  if (node.hasAttribute('min') || node.hasAttribute('max')) {
    throw new QuantkitError(
      `${node.label}: Clip with min/max attributes is the pre-opset-11 form; convert the model`,
    );
  }
  const [x, lo, hi] = node.inputs;
  const zero = ctx.floatConstant(0, x);
  const below = lo ? ctx.op('Less', [x, lo]) : undefined;
  const above = hi ? ctx.op('Greater', [x, hi]) : undefined;
  const outside = below && above ? ctx.op('Or', [below, above]) : (below ?? above);
  const dx = outside ? ctx.op('Where', [outside, zero, dy!]) : dy!;
  const bound = (mask: string | undefined, value: string) => clipBoundGrad(ctx, mask!, dy!, zero, value);
  return [
    ctx.needsGradient(node, 0) ? dx : undefined,
    ctx.needsGradient(node, 1) ? bound(below, lo) : undefined,
    ctx.needsGradient(node, 2) ? bound(above, hi) : undefined,
  ];
};

function clipBoundGrad(ctx: GradientContext, mask: string, dy: string, zero: string, bound: string): string {
  return ctx.unbroadcast(ctx.op('Where', [mask, dy, zero]), bound);
}

export const ACTIVATION_RULES: Record<string, GradientRule> = {
  Relu: relu,
  LeakyRelu: leakyRelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Erf: erf,
  Gelu: gelu,
  Clip: clip,
};
