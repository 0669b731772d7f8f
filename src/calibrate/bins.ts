/**
 * The histogram as estimators read it: the counts of x (value bins) or of |x| (magnitude bins), trimmed
 * to the occupied span. A signed histogram folds into magnitude bins without re-binning error, because 0
 * is a bin edge (a value exactly on a negative edge, −k·w, lands in bin k − 1 instead of k).
 */

import { QuantkitError } from '../errors.js';
import { type Histogram, fitExponent } from './histogram.js';
import type { TensorStats } from './stats.js';

export interface Bins {
  /** counts[i] values lie in [(first + i) · width, (first + i + 1) · width). */
  readonly counts: Float64Array;
  readonly first: number;
  readonly width: number;
  /** Exact smallest and largest binned value. */
  readonly lo: number;
  readonly hi: number;
  readonly total: number;
}

/** Bins of |x| starting at 0 (first = 0), up to the bin holding max |x|. */
export function magnitudeBins(stats: TensorStats, method: string): Bins {
  const h = requireHistogram(stats, method);
  const m = stats.moments;
  const lo = m.min >= 0 ? m.min : m.max <= 0 ? -m.max : 0;
  const hi = m.maxAbs;
  if (h.kind === 'abs') {
    const end = Math.floor(hi / h.width) + 1;
    return { counts: h.counts.subarray(0, end), first: 0, width: h.width, lo, hi, total: m.count };
  }
  // Bin g of x covers [g·w, (g+1)·w), which |x| maps onto [(−g−1)·w, −g·w] for g < 0: bin −g−1.
  const exponent = Math.max(h.exponent, fitExponent(0, hi, h.bins));
  const scale = 2 ** (h.exponent - exponent);
  const counts = new Float64Array(Math.floor(hi * 2 ** -exponent) + 1);
  const src = h.counts;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0) continue;
    const g = h.first + i;
    counts[Math.floor((g >= 0 ? g : -g - 1) * scale)] += c;
  }
  return { counts, first: 0, width: 2 ** exponent, lo, hi, total: m.count };
}

/** Bins of x, trimmed to the bins holding min and max. Needs a signed histogram unless x ≥ 0. */
export function valueBins(stats: TensorStats, method: string): Bins {
  const h = requireHistogram(stats, method);
  const m = stats.moments;
  if (h.kind === 'abs' && m.min < 0) {
    throw new QuantkitError(
      `tensor '${stats.name}': the '${method}' estimator needs a signed histogram for an asymmetric ` +
        `range; create its TensorStats with { histogram: 'signed' }`,
    );
  }
  const start = Math.floor(m.min / h.width) - h.first;
  const end = Math.floor(m.max / h.width) - h.first + 1;
  return {
    counts: h.counts.subarray(start, end),
    first: h.first + start,
    width: h.width,
    lo: m.min,
    hi: m.max,
    total: m.count,
  };
}

function requireHistogram(stats: TensorStats, method: string): Histogram {
  if (stats.histogram === undefined) {
    throw new QuantkitError(
      `tensor '${stats.name}': the '${method}' estimator needs a histogram; create its TensorStats ` +
        `with { histogram: histogramFor('${method}', target) }`,
    );
  }
  return stats.histogram;
}
