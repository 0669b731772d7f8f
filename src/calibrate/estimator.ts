/**
 * What every range estimator takes and returns, and the two ranges they all fall back on or build from:
 * the observed one and a clipping threshold on |x|.
 */

import { QuantkitError } from '../errors.js';
import type { QuantRangeOptions, QuantType } from '../quant/types.js';
import type { Moments } from './moments.js';
import type { TensorStats } from './stats.js';

/** The quantization the range is for: the same fields qparamsFromRange takes. */
export interface RangeTarget extends QuantRangeOptions {
  type: QuantType;
  symmetric: boolean;
}

/** A clipping range [min, max] in float64, to pass to qparamsFromRange. */
export interface ClipRange {
  min: number;
  max: number;
}

/** Turns a tensor's statistics into its clipping range for a target; O is the method's options object. */
export type RangeEstimator<O = never> = (stats: TensorStats, target: RangeTarget, options?: O) => ClipRange;

/**
 * [min, max] of the finite values seen; [0, 0] for a tensor that never held a value (qparamsFromRange
 * then gives scale 1). Throws when every value was NaN or ±Inf: that is a model problem, not a range.
 */
export function observedRange(stats: TensorStats): ClipRange {
  const m = stats.moments;
  if (m.count > 0) return { min: m.min, max: m.max };
  if (m.nanCount + m.infCount > 0) {
    throw new QuantkitError(
      `tensor '${stats.name}' held only NaN or Infinity during calibration (${m.nanCount} NaN, ` +
        `${m.infCount} ±Infinity); fix the model or its inputs before quantizing it`,
    );
  }
  return { min: 0, max: 0 };
}

/** The observed range clipped to [−T, T]. */
export function thresholdRange(moments: Moments, threshold: number): ClipRange {
  return { min: Math.max(moments.min, -threshold), max: Math.min(moments.max, threshold) };
}
