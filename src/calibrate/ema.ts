/**
 * Moving-average MinMax (ONNX Runtime's CalibMovingAverage): the exponential moving average of each
 * batch's min and max, so a few extreme batches move the range by only c of their excess. The constant c
 * is a TensorStats option because it is applied as the batches arrive.
 */

import { type ClipRange, observedRange } from './estimator.js';
import type { TensorStats } from './stats.js';

export function emaRange(stats: TensorStats): ClipRange {
  const observed = observedRange(stats);
  if (Number.isNaN(stats.emaMin)) return observed;
  return { min: stats.emaMin, max: stats.emaMax };
}
