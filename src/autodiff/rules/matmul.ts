/** Matrix products: MatMul with numpy batching and 1-D operands, and Gemm. */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { Node } from '../../onnx/node.js';
import type { GradientContext, GradientRule } from '../gradient-model.js';

/** Swaps the last two axes of a value of known rank. */
function swapLast(ctx: GradientContext, x: string, rank: number): string {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.op('Transpose', [x], [Attribute.ints('perm', perm)]);
}

function rankOf(ctx: GradientContext, node: Node, x: string): number {
  const r = ctx.rank(x);
  if (r === undefined) {
    throw new QuantkitError(
      `${node.label}: the rank of '${x}' is unknown, and its gradient needs it; declare its shape in value_info`,
    );
  }
  return r;
}

/**
 * 1-D operands are promoted as MatMul does (a → [1, k], b → [k, 1]) and dy gets the removed axes
 * back, so the matrix formulas dA = dY·Bᵀ, dB = Aᵀ·dY apply; batch axes broadcast in the forward
 * product are summed away by unbroadcast.
 */
const matmul: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.inputs;
  const ra = rankOf(ctx, node, a);
  const rb = rankOf(ctx, node, b);
  const a2 = ra === 1 ? ctx.op('Unsqueeze', [a, ctx.int64s([0])]) : a;
  const b2 = rb === 1 ? ctx.op('Unsqueeze', [b, ctx.int64s([1])]) : b;
  const restored = [...(ra === 1 ? [-2] : []), ...(rb === 1 ? [-1] : [])];
  const dy2 = restored.length > 0 ? ctx.op('Unsqueeze', [dy!, ctx.int64s(restored)]) : dy!;
  const da = () => {
    const full = ctx.op('MatMul', [dy2, swapLast(ctx, b2, Math.max(rb, 2))]);
    return ctx.unbroadcast(full, a);
  };
  const db = () => {
    const full = ctx.op('MatMul', [swapLast(ctx, a2, Math.max(ra, 2)), dy2]);
    const reduced = ctx.unbroadcast(full, b2);
    return rb === 1 ? ctx.op('Reshape', [reduced, ctx.int64s([-1])]) : reduced;
  };
  return [ctx.needsGradient(node, 0) ? da() : undefined, ctx.needsGradient(node, 1) ? db() : undefined];
};

/**
 * Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' likewise. Each gradient is itself one Gemm:
 * dA = α·dY·B'ᵀ (transposed back when transA), dB = α·A'ᵀ·dY (likewise), dC = β·dY summed to C's shape.
 */
const gemm: GradientRule = (node, [dy], ctx) => {
  const [a, b, c] = node.inputs;
  const alpha = node.getFloat('alpha', 1);
  const beta = node.getFloat('beta', 1);
  const tA = node.getInt('transA', 0) === 1;
  const tB = node.getInt('transB', 0) === 1;
  const g = (x: string, y: string, transX: boolean, transY: boolean) =>
    ctx.op(
      'Gemm',
      [x, y],
      [
        Attribute.float('alpha', alpha),
        Attribute.int('transA', transX ? 1 : 0),
        Attribute.int('transB', transY ? 1 : 0),
      ],
    );
  const da = () => (tA ? g(b, dy!, tB, true) : g(dy!, b, false, !tB));
  const db = () => (tB ? g(dy!, a, true, tA) : g(a, dy!, !tA, false));
  const dc = () => {
    const scaled = beta === 1 ? dy! : ctx.op('Mul', [dy!, ctx.floatConstant(beta, dy!)]);
    return ctx.unbroadcast(scaled, c);
  };
  return [
    ctx.needsGradient(node, 0) ? da() : undefined,
    ctx.needsGradient(node, 1) ? db() : undefined,
    c && ctx.needsGradient(node, 2) ? dc() : undefined,
  ];
};

export const MATMUL_RULES: Record<string, GradientRule> = { MatMul: matmul, Gemm: gemm };
