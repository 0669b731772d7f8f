/**
 * A streaming histogram of activation values with a fixed number of bins over a range that grows with
 * the data, so its memory does not depend on how many batches it has seen.
 *
 * What it keeps: `bins` float64 counts (exact up to 2^53 values), the exponent e of the bin width
 * w = 2^e, the index `first` of the first bin, and the exact Moments (count, min, max, Σx, Σx², Σ|x|,
 * NaN and Inf counts) of the values binned. Bin i holds the values in [(first + i)·w, (first + i + 1)·w);
 * a 'signed' histogram bins x, an 'abs' histogram bins |x| and has first = 0.
 *
 * The grid is fixed by the values alone: e is the smallest exponent whose bins fit [min, max] (for 'abs',
 * [0, max|x|]) and first = floor(min / w). When a batch does not fit, w doubles k times and every
 * group of old bins that falls into one new bin is summed into it. Because floor(floor(x/w) / 2^k) =
 * floor(x / (2^k·w)) for a power-of-two w, the counts are exactly those one pass over all the values with
 * the final grid gives: the histogram does not depend on how the data was split into batches. The price
 * is resolution: the occupied span covers between half and all of the bins.
 */

import { QuantkitError } from '../errors.js';
import { bitsOf, finishScan, Moments, NO_HIGH_KEY, NO_LOW_KEY, scanBatch } from './moments.js';

export type HistogramKind = 'abs' | 'signed';

export const DEFAULT_BINS = 2048;

// Bins at most 2^-40 of max|x| wide: finer than float32 resolution, and bin indices stay exact integers.
const FINEST_RELATIVE_EXPONENT = 40;
// Exponent of the smallest float32 subnormal, the magnitude floor used for all-zero data.
const FLOAT32_MIN_EXPONENT = -149;

export class Histogram {
  readonly kind: HistogramKind;
  readonly bins: number;
  /** Exact aggregates of the values binned. */
  readonly moments = new Moments();
  private binCounts: Float64Array;
  private binExponent = -Infinity;
  private firstBin = 0;
  private readonly batch = new Moments();

  constructor(kind: HistogramKind = 'signed', bins: number = DEFAULT_BINS) {
    if (!Number.isInteger(bins) || bins < 2 || bins > 2 ** 24) {
      throw new QuantkitError(`a histogram needs an integer number of bins in [2, 2^24], got ${bins}`);
    }
    this.kind = kind;
    this.bins = bins;
    this.binCounts = new Float64Array(bins);
  }

  /** Read-only: counts[i] values fell in bin i. */
  get counts(): Float64Array {
    return this.binCounts;
  }

  /** Bin width 2^exponent; -Infinity before the first finite value. */
  get exponent(): number {
    return this.binExponent;
  }

  get width(): number {
    return 2 ** this.binExponent;
  }

  /** Global index of bin 0: it starts at first · width. */
  get first(): number {
    return this.firstBin;
  }

  /**
   * Adds one batch; `scanned`, when given, receives its Moments. Once a grid exists this is one pass:
   * the loop that accumulates the Moments also bins every value on the current grid — values outside
   * it index past the counts, where typed arrays ignore writes, as they do for NaN. If the batch
   * widened the range, the grid is then coarsened and a second pass bins the values that missed.
   */
  update(data: Float32Array, scanned: Moments = this.batch): void {
    const fresh = this.moments.count === 0;
    const oldExponent = this.binExponent;
    const oldFirst = this.firstBin;
    if (fresh) scanBatch(data, scanned);
    else this.scanAndBin(data, scanned);
    if (scanned.count > 0) {
      const lo = this.kind === 'abs' ? 0 : Math.min(this.moments.min, scanned.min);
      const hi =
        this.kind === 'abs'
          ? Math.max(this.moments.maxAbs, scanned.maxAbs)
          : Math.max(this.moments.max, scanned.max);
      const exponent = Math.max(this.binExponent, fitExponent(lo, hi, this.bins));
      const first = Math.floor(lo * 2 ** -exponent);
      if (exponent !== oldExponent || first !== oldFirst) {
        this.regrid(exponent, first);
        this.binMissed(data, oldExponent, oldFirst);
      }
    }
    this.moments.add(scanned);
  }

  private regrid(exponent: number, first: number): void {
    const old = this.binCounts;
    const next = new Float64Array(this.bins);
    if (this.moments.count > 0) {
      // Old global index g → floor(g / 2^k): exact, as g is an integer below 2^53 and 2^-k a power of two.
      const scale = 2 ** (this.binExponent - exponent);
      for (let i = 0; i < old.length; i++) {
        const c = old[i];
        if (c !== 0) next[Math.floor((this.firstBin + i) * scale) - first] += c;
      }
    }
    this.binCounts = next;
    this.binExponent = exponent;
    this.firstBin = first;
  }

  /** scanBatch's loop, binning each value on the current grid as it goes. */
  private scanAndBin(data: Float32Array, out: Moments): void {
    const bits = bitsOf(data);
    const counts = this.binCounts;
    // x · 2^-e is exact, so floor() puts every value in the bin the grid defines.
    const inv = 2 ** -this.binExponent;
    const first = this.firstBin;
    const abs = this.kind === 'abs';
    let lowKey = NO_LOW_KEY;
    let highKey = NO_HIGH_KEY;
    let sum = 0;
    let sumSquares = 0;
    let sumAbs = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      const b = bits[i];
      const key = b ^ ((b >> 31) & 0x7fffffff);
      if (key < lowKey) lowKey = key;
      if (key > highKey) highKey = key;
      const a = Math.abs(v);
      sum += v;
      sumSquares += v * v;
      sumAbs += a;
      counts[Math.floor((abs ? a : v) * inv) - first]++;
    }
    finishScan(data, out, lowKey, highKey, sum, sumSquares, sumAbs);
  }

  /**
   * Bins, on the current grid, the values outside the grid (exponent, first): all of them when there
   * was no grid (exponent −∞, where x · 2^∞ is no bin index).
   */
  private binMissed(data: Float32Array, exponent: number, first: number): void {
    const counts = this.binCounts;
    const inv = 2 ** -this.binExponent;
    const oldInv = 2 ** -exponent;
    const bins = this.bins;
    const abs = this.kind === 'abs';
    for (let i = 0; i < data.length; i++) {
      const x = abs ? Math.abs(data[i]) : data[i];
      const old = Math.floor(x * oldInv) - first;
      if (!(old >= 0 && old < bins)) counts[Math.floor(x * inv) - this.firstBin]++;
    }
  }
}

/**
 * The smallest exponent e, not below ilog2(max |lo|, |hi|) − 40, such that the bins of width 2^e
 * aligned on multiples of 2^e hold [lo, hi] in `bins` bins. Monotone in the range, which is what makes
 * the grid independent of batching.
 */
export function fitExponent(lo: number, hi: number, bins: number): number {
  const magnitude = Math.max(-lo, hi);
  const floor = (magnitude > 0 ? floorLog2(magnitude) : FLOAT32_MIN_EXPONENT) - FINEST_RELATIVE_EXPONENT;
  // Bins that fit satisfy (hi − lo) / 2^e < bins, so the answer lies above log2((hi − lo) / bins).
  let e = hi > lo ? Math.max(floor, Math.floor(Math.log2((hi - lo) / bins)) - 1) : floor;
  while (Math.floor(hi * 2 ** -e) - Math.floor(lo * 2 ** -e) > bins - 1) e++;
  return e;
}

/** floor(log2(x)) for a positive finite x, exactly (Math.log2 can round across an integer). */
export function floorLog2(x: number): number {
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e--;
  else if (2 ** (e + 1) <= x) e++;
  return e;
}
