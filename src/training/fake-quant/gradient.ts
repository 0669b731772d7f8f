/**
 * The gradient of FakeQuant (function.ts), registered with the autodiff engine.
 *
 * With r = round(x/s) + z (rounding treated as the identity: the straight-through estimator),
 * below = r < qmin, above = r > qmax, inside otherwise:
 * - ∂y/∂x = 1 inside, 0 outside (STE: the gradient passes where the value was not clipped).
 * - LSQ (Esser et al. 2019), learnable step size: ∂y/∂s = round(x/s) − x/s inside, qmin − z below,
 *   qmax − z above; the summed gradient is multiplied by g = 1/√(N·Qp) (grad_scale, set where the node
 *   is made), which keeps the step size's updates in proportion to the weights' whatever the layer size.
 * - PACT (Choi et al. 2018), learnable clipping: the clipping level s·(qmax − z) moves only with the
 *   values it clips, ∂y/∂s = qmin − z below, qmax − z above, 0 inside.
 * The zero point is not learned.
 */
import { registerGradient, type GradientContext } from '../../autodiff/gradient-model.js';
import type { Node } from '../../onnx/node.js';
import { FAKE_QUANT_DOMAIN, FAKE_QUANT_OP } from './function.js';

export type ScaleLearning = 'none' | 'lsq' | 'pact';

export function fakeQuantGradient(
  node: Node,
  outputGrads: (string | undefined)[],
  ctx: GradientContext,
): (string | undefined)[] {
  const gy = outputGrads[0];
  if (!gy) return [undefined, undefined, undefined];
  const [x, s, z] = node.inputs;
  const [qmin] = node.getFloats('qmin');
  const [qmax] = node.getFloats('qmax');
  const learn = node.getString('learn', 'none') as ScaleLearning;
  const scaled = ctx.op('Div', [x, s]);
  const rounded = ctx.op('Round', [scaled]);
  const codes = ctx.op('Add', [rounded, z]);
  const belowB = ctx.op('Less', [codes, ctx.floatConstant(qmin, x)]);
  const aboveB = ctx.op('Greater', [codes, ctx.floatConstant(qmax, x)]);
  const inside = ctx.castLike(ctx.op('Not', [ctx.op('Or', [belowB, aboveB])]), x);
  const gx = ctx.needsGradient(node, 0) ? ctx.op('Mul', [gy, inside]) : undefined;
  if (learn === 'none' || !ctx.needsGradient(node, 1)) return [gx, undefined, undefined];

  // Per element: the clipped ends' slopes (qmin − z, qmax − z), plus LSQ's rounding residual inside.
  const below = ctx.castLike(belowB, x);
  const above = ctx.castLike(aboveB, x);
  const low = ctx.op('Sub', [ctx.floatConstant(qmin, x), z]);
  const high = ctx.op('Sub', [ctx.floatConstant(qmax, x), z]);
  let slope = ctx.op('Add', [ctx.op('Mul', [below, low]), ctx.op('Mul', [above, high])]);
  if (learn === 'lsq') {
    const residual = ctx.op('Mul', [inside, ctx.op('Sub', [rounded, scaled])]);
    slope = ctx.op('Add', [slope, residual]);
  }
  let gs = ctx.unbroadcast(ctx.op('Mul', [gy, slope]), s);
  if (learn === 'lsq') gs = ctx.op('Mul', [gs, ctx.floatConstant(node.getFloat('grad_scale', 1), x)]);
  return [gx, gs, undefined];
}

let registered = false;

/** Registers the rule (once); the trainer calls this before building a gradient model. */
export function registerFakeQuantGradient(): void {
  if (registered) return;
  registerGradient(FAKE_QUANT_DOMAIN, FAKE_QUANT_OP, fakeQuantGradient);
  registered = true;
}
