/**
 * Everything calibration remembers about one activation tensor, updated batch by batch in constant
 * memory: exact Moments, an exponential moving average of the per-batch min and max, and — only when
 * the chosen estimator needs one — a Histogram. MinMax calibration therefore costs one pass per batch.
 */

import { QuantkitError } from '../errors.js';
import { DEFAULT_BINS, Histogram, type HistogramKind } from './histogram.js';
import { Moments, scanBatch } from './moments.js';
import type { Tails } from './tails.js';

/** ONNX Runtime's CalibMovingAverageConstant default. */
export const DEFAULT_EMA_CONSTANT = 0.01;

export interface TensorStatsOptions {
  /** Histogram to keep (see `histogramFor` in estimators.ts); none by default. */
  histogram?: HistogramKind;
  /** Bins of that histogram. Default 2048. */
  bins?: number;
  /** c in ema ← ema + c · (batch − ema), in [0, 1]. Default 0.01. */
  emaConstant?: number;
}

export class TensorStats {
  readonly name: string;
  /** Exact count, min, max, Σx, Σx², Σ|x| of the finite values, and how many were NaN or ±Inf. */
  readonly moments = new Moments();
  readonly histogram: Histogram | undefined;
  readonly emaConstant: number;
  /** Moving averages of the per-batch min and max; NaN until a batch holds a finite value. */
  emaMin = NaN;
  emaMax = NaN;
  /** Batches seen, empty and all-NaN ones included. */
  batches = 0;
  /** The largest and smallest values seen, when the collector keeps them (exact percentiles). */
  tails: Tails | undefined;
  private readonly batch = new Moments();

  constructor(name: string, options: TensorStatsOptions = {}) {
    const c = options.emaConstant ?? DEFAULT_EMA_CONSTANT;
    if (!(c >= 0 && c <= 1)) {
      throw new QuantkitError(`tensor '${name}': the EMA constant must lie in [0, 1], got ${c}`);
    }
    this.name = name;
    this.emaConstant = c;
    this.histogram =
      options.histogram === undefined
        ? undefined
        : new Histogram(options.histogram, options.bins ?? DEFAULT_BINS);
  }

  /** Adds one batch of the tensor's values; NaN and ±Inf are counted and skipped. */
  update(data: Float32Array): void {
    const batch = this.batch;
    if (this.histogram) this.histogram.update(data, batch);
    else scanBatch(data, batch);
    this.moments.add(batch);
    this.batchRange(batch.count, batch.min, batch.max);
  }

  /**
   * Adds a batch that was summarized inside the runtime session (see reduce-graph.ts): its number of
   * values, min and max, and whether it held NaN. The sums stay unknown, so only estimators that read
   * the range (and the tails) apply.
   */
  updateSummary(count: number, min: number, max: number, hasNaN: boolean): void {
    const m = this.moments;
    if (hasNaN) m.nanCount++;
    const finite = count > 0 && Number.isFinite(min) && Number.isFinite(max);
    if (finite) {
      m.count += count;
      m.min = Math.min(m.min, min);
      m.max = Math.max(m.max, max);
    } else if (count > 0) {
      m.infCount++;
    }
    this.batchRange(finite ? count : 0, min, max);
  }

  private batchRange(count: number, min: number, max: number): void {
    this.batches++;
    if (count === 0) return;
    if (Number.isNaN(this.emaMin)) {
      this.emaMin = min;
      this.emaMax = max;
    } else {
      this.emaMin += this.emaConstant * (min - this.emaMin);
      this.emaMax += this.emaConstant * (max - this.emaMax);
    }
  }
}
