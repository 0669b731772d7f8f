/** Arithmetic with numpy broadcasting: each operand's gradient is summed back to its own shape. */
import type { GradientRule } from '../gradient-model.js';

const add: GradientRule = (node, [dy], ctx) =>
  node.inputs.map((x, i) => (ctx.needsGradient(node, i) ? ctx.unbroadcast(dy!, x) : undefined));

const sub: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.inputs;
  return [
    ctx.needsGradient(node, 0) ? ctx.unbroadcast(dy!, a) : undefined,
    // Negated after the reduction, on the smaller tensor.
    ctx.needsGradient(node, 1) ? ctx.op('Neg', [ctx.unbroadcast(dy!, b)]) : undefined,
  ];
};

const mul: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.inputs;
  // a·a: one product and a doubling instead of two products and their sum.
  if (a === b) return [ctx.op('Mul', [ctx.op('Mul', [dy!, a]), ctx.floatConstant(2, a)]), undefined];
  return [
    ctx.needsGradient(node, 0) ? ctx.unbroadcast(ctx.op('Mul', [dy!, b]), a) : undefined,
    ctx.needsGradient(node, 1) ? ctx.unbroadcast(ctx.op('Mul', [dy!, a]), b) : undefined,
  ];
};

/**
 * y = a / b: da = dy / b, db = −Σ dy·y / b, the sum over the axes b is broadcast along — b is
 * constant along them, so it divides after the sum, on the smaller tensor.
 */
const div: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.inputs;
  const y = node.outputs[0];
  const db = () => ctx.op('Neg', [ctx.op('Div', [ctx.unbroadcast(ctx.op('Mul', [dy!, y]), b), b])]);
  return [
    ctx.needsGradient(node, 0) ? ctx.unbroadcast(ctx.op('Div', [dy!, b]), a) : undefined,
    ctx.needsGradient(node, 1) ? db() : undefined,
  ];
};

/** y = a^b: da = dy·b·a^(b-1), db = dy·y·ln(a) (defined for a > 0). */
const pow: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.inputs;
  const y = node.outputs[0];
  const da = () => {
    const exponent = ctx.castLike(b, a);
    const lower = ctx.op('Pow', [a, ctx.op('Sub', [exponent, ctx.floatConstant(1, a)])]);
    return ctx.unbroadcast(ctx.op('Mul', [dy!, ctx.op('Mul', [exponent, lower])]), a);
  };
  const db = () =>
    ctx.unbroadcast(ctx.castLike(ctx.op('Mul', [ctx.op('Mul', [dy!, y]), ctx.op('Log', [a])]), b), b);
  return [ctx.needsGradient(node, 0) ? da() : undefined, ctx.needsGradient(node, 1) ? db() : undefined];
};

const sum: GradientRule = add;

const neg: GradientRule = (_node, [dy], ctx) => [ctx.op('Neg', [dy!])];

const identity: GradientRule = (node, [dy]) => [dy, ...node.inputs.slice(1).map(() => undefined)];

/** y = sqrt(x): dx = dy / (2y). */
const sqrt: GradientRule = (node, [dy], ctx) => [
  ctx.op('Div', [ctx.op('Mul', [dy!, ctx.floatConstant(0.5, dy!)]), node.outputs[0]]),
];

const exp: GradientRule = (node, [dy], ctx) => [ctx.op('Mul', [dy!, node.outputs[0]])];

const log: GradientRule = (node, [dy], ctx) => [ctx.op('Div', [dy!, node.inputs[0]])];

/** y = 1/x: dx = -dy·y². */
const reciprocal: GradientRule = (node, [dy], ctx) => {
  const y = node.outputs[0];
  return [ctx.op('Neg', [ctx.op('Mul', [dy!, ctx.op('Mul', [y, y])])])];
};

const abs: GradientRule = (node, [dy], ctx) => [ctx.op('Mul', [dy!, ctx.op('Sign', [node.inputs[0]])])];

/** Float-to-float casts pass the gradient back in the input's type; casts from integers end it. */
const cast: GradientRule = (node, [dy], ctx) => {
  const from = ctx.dtype(node.inputs[0]);
  const isFloat = from === 'float32' || from === 'float64' || from === 'float16' || from === 'bfloat16';
  return [isFloat ? ctx.castLike(dy!, node.inputs[0]) : undefined, undefined];
};

const expand: GradientRule = (node, [dy], ctx) => [ctx.unbroadcast(dy!, node.inputs[0]), undefined];

/** Where(c, a, b): the gradient goes to a where c holds, to b elsewhere. */
const where: GradientRule = (node, [dy], ctx) => {
  const [c, a, b] = node.inputs;
  const zero = ctx.floatConstant(0, dy!);
  return [
    undefined,
    ctx.needsGradient(node, 1) ? ctx.unbroadcast(ctx.op('Where', [c, dy!, zero]), a) : undefined,
    ctx.needsGradient(node, 2) ? ctx.unbroadcast(ctx.op('Where', [c, zero, dy!]), b) : undefined,
  ];
};

export const ELEMENTWISE_RULES: Record<string, GradientRule> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Sum: sum,
  Neg: neg,
  Identity: identity,
  Sqrt: sqrt,
  Exp: exp,
  Log: log,
  Reciprocal: reciprocal,
  Abs: abs,
  Cast: cast,
  Expand: expand,
  Where: where,
};
