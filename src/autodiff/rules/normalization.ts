/** BatchNormalization (inference form: fixed statistics) and LayerNormalization. */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { GradientRule } from '../gradient-model.js';

/**
 * y = (x − mean)·k + B with k = scale/√(var + ε), per channel (axis 1). Gradients for all five inputs;
 * a trainer differentiating the batch statistics rewrites the node with toTrainingBatchNorm first.
 */
const batchNorm: GradientRule = (node, [dy], ctx) => {
  if (node.getInt('training_mode', 0) !== 0 || node.outputs.filter((o) => o !== '').length > 1) {
    throw new QuantkitError(
      `${node.label}: BatchNormalization in training mode has no gradient rule; ` +
        'rewrite it with toTrainingBatchNorm (batch statistics computed in the graph)',
    );
  }
  const [x, scale, , mean, variance] = node.inputs;
  const rank = ctx.rank(x);
  if (rank === undefined)
    throw new QuantkitError(`${node.label}: the rank of '${x}' is unknown; declare its shape`);
  const perChannel = ctx.int64s([1, -1, ...new Array(rank - 2).fill(1)]);
  const channels = (v: string) => ctx.op('Reshape', [v, perChannel]);
  const others = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const eps = ctx.floatConstant(node.getFloat('epsilon', 1e-5), x);
  const inv = ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, eps])])]);
  const k = ctx.op('Mul', [scale, inv]);
  const centered = () => ctx.op('Sub', [x, channels(mean)]);
  const total = (v: string) => ctx.reduceSum(v, others, false);
  const need = (i: number) => ctx.needsGradient(node, i);
  // d var: Σ dy·(x − mean)·scale·(−½)(var + ε)^(−3/2)
  const dVar = () => {
    const cube = ctx.op('Mul', [inv, ctx.op('Mul', [inv, inv])]);
    const factor = ctx.op('Mul', [ctx.op('Mul', [scale, cube]), ctx.floatConstant(-0.5, x)]);
    return ctx.op('Mul', [total(ctx.op('Mul', [dy!, centered()])), factor]);
  };
  return [
    need(0) ? ctx.op('Mul', [dy!, channels(k)]) : undefined,
    need(1) ? ctx.op('Mul', [total(ctx.op('Mul', [dy!, centered()])), inv]) : undefined,
    need(2) ? total(dy!) : undefined,
    need(3) ? ctx.op('Neg', [ctx.op('Mul', [total(dy!), k])]) : undefined,
    need(4) ? dVar() : undefined,
  ];
};

/**
 * LayerNormalization over the axes from `axis` on, computed on the [M, K] matrix Flatten makes:
 * x̂ = (x − μ)·r, r = 1/√(σ² + ε); dx = r·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·scale;
 * dscale = Σ_M dy·x̂, dB = Σ_M dy.
 */
const layerNorm: GradientRule = (node, [dy, dMean, dInvStd], ctx) => {
  if (dMean || dInvStd || !dy) {
    throw new QuantkitError(
      `${node.label}: gradients through LayerNormalization's Mean/InvStdDev outputs are not supported`,
    );
  }
  const [x, scale, bias] = node.inputs;
  const axis = node.getInt('axis', -1);
  const eps = node.getFloat('epsilon', 1e-5);
  const flat = (v: string) => ctx.op('Flatten', [v], [Attribute.int('axis', axis)]);
  const x2 = flat(x);
  const dy2 = flat(dy!);
  const mean = (v: string) => ctx.reduceMean(v, [1], true);
  const centered = ctx.op('Sub', [x2, mean(x2)]);
  const variance = mean(ctx.op('Mul', [centered, centered]));
  const r = ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.floatConstant(eps, x)])])]);
  const xhat = ctx.op('Mul', [centered, r]);
  const row = (v: string) => ctx.op('Reshape', [v, ctx.int64s([1, -1])]);
  const back = (v: string, like: string) => ctx.op('Reshape', [v, ctx.shapeOf(like)]);
  const dx = () => {
    const g = ctx.op('Mul', [dy2, row(scale)]);
    const inner = ctx.op('Sub', [
      ctx.op('Sub', [g, mean(g)]),
      ctx.op('Mul', [xhat, mean(ctx.op('Mul', [g, xhat]))]),
    ]);
    return back(ctx.op('Mul', [r, inner]), x);
  };
  return [
    ctx.needsGradient(node, 0) ? dx() : undefined,
    ctx.needsGradient(node, 1)
      ? back(ctx.reduceSum(ctx.op('Mul', [dy2, xhat]), [0], false), scale)
      : undefined,
    bias && ctx.needsGradient(node, 2) ? back(ctx.reduceSum(dy2, [0], false), bias) : undefined,
  ];
};

export const NORMALIZATION_RULES: Record<string, GradientRule> = {
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
};
