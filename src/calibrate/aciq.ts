/**
 * ACIQ calibration (DOMAIN.md §3; Banner et al. 2019): fit a Laplace or Gaussian model to |x| and clip
 * at the threshold that minimises the model's expected clipping + rounding error for the target's step
 * (clip-models.ts). The range is then the observed one clipped to [−T, T], like entropy's.
 *
 * Fit. |x| is modelled as the magnitude of a zero-mean Laplace(b) or Gaussian(σ) — zero-centred because
 * the quantization grid is anchored at 0 — with the maximum-likelihood scales b = mean |x| and
 * σ = √mean x², taken from the exact sums. Exact zeros (half of a ReLU output) are a point mass that
 * quantizes without error; they would shrink b and σ, so they are left out: their number is estimated
 * as the excess of the histogram's first |x| bin over its second (the density just above 0 is nearly
 * flat across two bins of a 2048-bin histogram, so what is left is the spike).
 *
 * Choice ('auto'). The model with the higher likelihood of the values: with one scale parameter each,
 * the maximised log-likelihoods per value are −ln b − 1 (Laplace) and ½ ln(2/π) − ln σ − ½
 * (Gaussian), so Laplace wins when σ / b > e^½ √(2/π) ≈ 1.3155. Gaussian data has σ / b = √(π/2) ≈ 1.2533,
 * Laplace data √2 ≈ 1.414: the criterion separates them cleanly and needs no histogram integration.
 */

import { magnitudeBins } from './bins.js';
import { type ClipDistribution, type DistributionFit, optimalThreshold } from './clip-models.js';
import { type ClipRange, type RangeTarget, observedRange, thresholdRange } from './estimator.js';
import { thresholdStepper } from './grid.js';
import type { Moments } from './moments.js';
import type { TensorStats } from './stats.js';

export interface AciqOptions {
  /** The model to fit; 'auto' (default) takes the one with the higher likelihood. */
  distribution?: ClipDistribution | 'auto';
}

const LAPLACE_RATIO = Math.exp(0.5) * Math.sqrt(2 / Math.PI);

export function aciqRange(stats: TensorStats, target: RangeTarget, options: AciqOptions = {}): ClipRange {
  const observed = observedRange(stats);
  if (observed.min === observed.max) return observed;
  const moments = stats.moments;
  const { counts } = magnitudeBins(stats, 'aciq');
  const zeros = Math.max(0, counts[0] - (counts.length > 1 ? counts[1] : 0));
  const fit = fitMagnitude(moments, moments.count - zeros, options.distribution ?? 'auto');
  if (fit === undefined) return observed;
  const threshold = optimalThreshold(fit, thresholdStepper(target, moments), moments.maxAbs);
  return thresholdRange(moments, threshold);
}

/** The fitted model of |x| over `n` non-zero values, or undefined when there are none. */
export function fitMagnitude(
  moments: Moments,
  n: number,
  distribution: ClipDistribution | 'auto',
): DistributionFit | undefined {
  if (!(n > 0) || moments.sumAbs === 0) return undefined;
  const b = moments.sumAbs / n;
  const sigma = Math.sqrt(moments.sumSquares / n);
  const chosen = distribution !== 'auto' ? distribution : sigma / b > LAPLACE_RATIO ? 'laplace' : 'gaussian';
  return { distribution: chosen, scale: chosen === 'laplace' ? b : sigma };
}
