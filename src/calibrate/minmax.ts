/** MinMax calibration (DOMAIN.md §3): the global min and max over every calibration batch. */

import { type ClipRange, observedRange } from './estimator.js';
import type { TensorStats } from './stats.js';

export function minMaxRange(stats: TensorStats): ClipRange {
  return observedRange(stats);
}
