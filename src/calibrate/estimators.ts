/**
 * Range estimators by name. A new method is one file exporting a RangeEstimator plus one line here,
 * saying which histogram it reads, so the collector builds histograms only when one is needed:
 * 'none'; 'abs' (|x| only: entropy and ACIQ clip |x| at one threshold); 'target' (|x| for symmetric
 * targets, x for asymmetric ones, whose ranges these estimators choose tail by tail).
 */

import { admmRange } from './admm.js';
import { aciqRange } from './aciq.js';
import { emaRange } from './ema.js';
import { entropyRange } from './entropy.js';
import type { ClipRange, RangeEstimator, RangeTarget } from './estimator.js';
import type { HistogramKind } from './histogram.js';
import { minMaxRange } from './minmax.js';
import { mseRange } from './mse.js';
import { percentileRange } from './percentile.js';
import type { TensorStats } from './stats.js';

export interface EstimatorEntry {
  estimate: RangeEstimator;
  histogram: 'none' | 'abs' | 'target';
}

export const ESTIMATORS = {
  minmax: { estimate: minMaxRange, histogram: 'none' },
  ema: { estimate: emaRange, histogram: 'none' },
  percentile: { estimate: percentileRange, histogram: 'target' },
  entropy: { estimate: entropyRange, histogram: 'abs' },
  mse: { estimate: mseRange, histogram: 'target' },
  aciq: { estimate: aciqRange, histogram: 'abs' },
  admm: { estimate: admmRange, histogram: 'target' },
} satisfies Record<string, EstimatorEntry>;

export type EstimatorName = keyof typeof ESTIMATORS;

/** The options object an estimator takes (PercentileOptions, AciqOptions, …). */
export type EstimatorOptions<N extends EstimatorName> = Parameters<(typeof ESTIMATORS)[N]['estimate']>[2];

export function isEstimatorName(name: string): name is EstimatorName {
  return Object.hasOwn(ESTIMATORS, name);
}

/** The histogram a TensorStats needs for `method` and `target`, or undefined when it needs none. */
export function histogramFor(method: EstimatorName, target: RangeTarget): HistogramKind | undefined {
  const need = ESTIMATORS[method].histogram;
  if (need === 'none') return undefined;
  return need === 'abs' || target.symmetric ? 'abs' : 'signed';
}

export function estimateRange<N extends EstimatorName>(
  method: N,
  stats: TensorStats,
  target: RangeTarget,
  options?: EstimatorOptions<N>,
): ClipRange {
  const estimate = ESTIMATORS[method].estimate as (
    stats: TensorStats,
    target: RangeTarget,
    options?: EstimatorOptions<N>,
  ) => ClipRange;
  return estimate(stats, target, options);
}
