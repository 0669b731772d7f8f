/**
 * The quantization step a candidate clipping range gets under a target, as qparamsFromRange will compute
 * it: the range widened to contain 0, divided by the number of code steps.
 */

import { quantRange } from '../quant/types.js';
import type { RangeTarget } from './estimator.js';
import type { Moments } from './moments.js';

/** qmax − qmin of the target. */
export function codeSteps(target: RangeTarget): number {
  const { qmin, qmax } = quantRange(target.type, target);
  return qmax - qmin;
}

/** The step as a function of T when |x| is clipped at T: the observed range intersected with [−T, T]. */
export function thresholdStepper(target: RangeTarget, moments: Moments): (threshold: number) => number {
  const steps = codeSteps(target);
  const { min, max } = moments;
  if (target.symmetric) return (t) => (2 * t) / steps;
  return (t) => (Math.max(Math.min(max, t), 0) - Math.min(Math.max(min, -t), 0)) / steps;
}
