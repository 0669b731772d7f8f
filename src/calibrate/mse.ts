/**
 * MSE calibration (DOMAIN.md §3, OMSE): the clipping range that minimises the expected squared
 * quantization error of the histogrammed values (see quantization-error.ts), over every bin edge.
 *
 * Symmetric targets search one threshold T on |x| (step 2T / (qmax − qmin)). Asymmetric targets search
 * [α, β] with α ≤ 0 ≤ β on the values, step (β − α) / (qmax − qmin): one side only when the data is
 * one-signed, else by coordinate descent — the best β for the current α, then the best α for that β,
 * starting from the observed range, until neither moves. Each sweep costs O(bins).
 */

import { magnitudeBins, valueBins } from './bins.js';
import { type ClipRange, type RangeTarget, observedRange, thresholdRange } from './estimator.js';
import { codeSteps } from './grid.js';
import { ClipErrorModel } from './quantization-error.js';
import type { TensorStats } from './stats.js';

const MAX_SWEEPS = 64;

export function mseRange(stats: TensorStats, target: RangeTarget): ClipRange {
  const observed = observedRange(stats);
  if (observed.min === observed.max) return observed;
  const steps = codeSteps(target);
  if (target.symmetric) {
    const model = new ClipErrorModel(magnitudeBins(stats, 'mse'));
    const r = bestUpper(model, 0, 1, (_, beta) => (2 * beta) / steps);
    return thresholdRange(stats.moments, model.upper(r));
  }
  const model = new ClipErrorModel(valueBins(stats, 'mse'));
  const step = (alpha: number, beta: number) => (Math.max(beta, 0) - Math.min(alpha, 0)) / steps;
  const m = model.size;
  // Cuts keep 0 inside the range: α = lower(l) ≤ 0 needs l ≤ zero, β = upper(r) ≥ 0 needs r ≥ zero.
  const lastLower = Math.min(m - 1, Math.max(0, model.zero));
  const firstUpper = Math.max(1, Math.min(m, model.zero));
  let l = 0;
  let r = m;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    const nextR = bestUpper(model, l, Math.max(firstUpper, l + 1), step);
    const nextL = bestLower(model, nextR, Math.min(lastLower, nextR - 1), step);
    if (nextR === r && nextL === l) break;
    r = nextR;
    l = nextL;
  }
  return { min: model.lower(l), max: model.upper(r) };
}

type StepFn = (alpha: number, beta: number) => number;

/** The cut r ≥ from minimising the error with the lower cut fixed at l (ties go to the wider range). */
function bestUpper(model: ClipErrorModel, l: number, from: number, step: StepFn): number {
  const alpha = model.lower(l);
  let best = model.size;
  let bestErr = model.error(l, best, step(alpha, model.upper(best)));
  for (let r = from; r < model.size; r++) {
    const err = model.error(l, r, step(alpha, model.upper(r)));
    if (err < bestErr) {
      bestErr = err;
      best = r;
    }
  }
  return best;
}

/** The cut l ≤ to minimising the error with the upper cut fixed at r (ties go to the wider range). */
function bestLower(model: ClipErrorModel, r: number, to: number, step: StepFn): number {
  const beta = model.upper(r);
  let best = 0;
  let bestErr = model.error(0, r, step(model.lower(0), beta));
  for (let l = 1; l <= to; l++) {
    const err = model.error(l, r, step(model.lower(l), beta));
    if (err < bestErr) {
      bestErr = err;
      best = l;
    }
  }
  return best;
}
