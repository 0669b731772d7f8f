/**
 * Percentile calibration (DOMAIN.md §3): clip at the p-th percentile of |x| for symmetric targets, or
 * at the (100 − p)-th and p-th percentiles of x — each tail at p — for asymmetric ones. Percentiles are
 * interpolated linearly inside the histogram bin where the cumulative count crosses them, and never
 * leave the observed range.
 */

import { QuantkitError } from '../errors.js';
import { type Bins, magnitudeBins, valueBins } from './bins.js';
import { type ClipRange, type RangeTarget, observedRange, thresholdRange } from './estimator.js';
import type { TensorStats } from './stats.js';

export interface PercentileOptions {
  /** Percentile kept, in [50, 100]. Default 99.999 (ONNX Runtime's default). */
  percentile?: number;
}

export const DEFAULT_PERCENTILE = 99.999;

export function percentileRange(
  stats: TensorStats,
  target: RangeTarget,
  options: PercentileOptions = {},
): ClipRange {
  const p = options.percentile ?? DEFAULT_PERCENTILE;
  if (!(p >= 50 && p <= 100)) {
    throw new QuantkitError(`tensor '${stats.name}': the percentile must lie in [50, 100], got ${p}`);
  }
  const observed = observedRange(stats);
  if (observed.min === observed.max) return observed;
  if (stats.tails) return tailsRange(stats, target, p) ?? observed;
  if (target.symmetric) {
    return thresholdRange(stats.moments, binQuantile(magnitudeBins(stats, 'percentile'), p / 100));
  }
  const bins = valueBins(stats, 'percentile');
  return { min: binQuantile(bins, 1 - p / 100), max: binQuantile(bins, p / 100) };
}

/** Exact order statistics from the kept tails: the K-th largest (|x|, or x and −x) with K = ⌈(1 − p)·N⌉. */
function tailsRange(stats: TensorStats, target: RangeTarget, p: number): ClipRange | undefined {
  const tails = stats.tails!;
  const k = Math.max(1, Math.ceil((1 - p / 100) * stats.moments.count));
  if (target.symmetric) {
    const t = tails.largestMagnitude(k);
    return t === undefined ? undefined : thresholdRange(stats.moments, t);
  }
  const max = tails.largest(k);
  const min = tails.smallest(k);
  return max === undefined || min === undefined ? undefined : { min, max };
}

/** The value below which a fraction q of the binned values lie. */
export function binQuantile(bins: Bins, q: number): number {
  const { counts, width } = bins;
  const rank = q * bins.total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0 && below + c >= rank) {
      const x = (bins.first + i + (rank - below) / c) * width;
      return Math.min(Math.max(x, bins.lo), bins.hi);
    }
    below += c;
  }
  return bins.hi;
}
