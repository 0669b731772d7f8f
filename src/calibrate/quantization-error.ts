/**
 * Expected squared quantization error E[(Q(x) − x)²] of the histogrammed values for a clipping range
 * [α, β] and step Δ, with the values spread uniformly inside each bin:
 * - bins outside [α, β] are clipped: a bin with centre c and width w beyond β costs (c − β)² + w²/12
 *   per value (likewise below α);
 * - inside, rounding costs Δ²/12 per value — except within Δ/2 of 0, where the error is exactly x².
 *   0 is the one grid point whose position does not move with Δ, and activations often pile up there
 *   (ReLU outputs are half zeros): charging those values Δ²/12 would overstate the rounding error of
 *   wide ranges and make clipping look better than it is.
 * Candidate ranges cut the histogram at bin edges: bins [0, l) lie below α and bins [r, m) above β,
 * with α the observed min when l = 0 and β the observed max when r = m. One evaluation costs O(1) plus
 * the few bins within Δ/2 of 0.
 */

import type { Bins } from './bins.js';

export class ClipErrorModel {
  readonly bins: Bins;
  /** Number of bins. */
  readonly size: number;
  /** Local index of the bin starting at 0 (may lie outside [0, size)). */
  readonly zero: number;
  private readonly n: Float64Array;
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;

  constructor(bins: Bins) {
    const { counts, first, width } = bins;
    const m = counts.length;
    this.bins = bins;
    this.size = m;
    this.zero = -first;
    this.n = new Float64Array(m + 1);
    this.s1 = new Float64Array(m + 1);
    this.s2 = new Float64Array(m + 1);
    for (let j = 0; j < m; j++) {
      const c = counts[j];
      const centre = (first + j + 0.5) * width;
      this.n[j + 1] = this.n[j] + c;
      this.s1[j + 1] = this.s1[j] + c * centre;
      this.s2[j + 1] = this.s2[j] + c * centre * centre;
    }
  }

  /** α for a cut at l: the observed min at 0, else the bin edge. */
  lower(l: number): number {
    return l === 0 ? this.bins.lo : (this.bins.first + l) * this.bins.width;
  }

  /** β for a cut at r: the observed max at size, else the bin edge. */
  upper(r: number): number {
    return r === this.size ? this.bins.hi : (this.bins.first + r) * this.bins.width;
  }

  /** Total squared error (summed over values) of the range cut at l < r with step Δ. */
  error(l: number, r: number, step: number): number {
    const { n, s1, s2, size } = this;
    const w2 = this.bins.width ** 2 / 12;
    let err = 0;
    if (l > 0) {
      const a = this.lower(l);
      err += s2[l] - 2 * a * s1[l] + (a * a + w2) * n[l];
    }
    if (r < size) {
      const b = this.upper(r);
      const cnt = n[size] - n[r];
      err += s2[size] - s2[r] - 2 * b * (s1[size] - s1[r]) + (b * b + w2) * cnt;
    }
    const rounding = (step * step) / 12;
    return err + rounding * (n[r] - n[l]) + this.nearZeroCorrection(l, r, step, rounding);
  }

  /** Exact minus Δ²/12 error of the values inside [l, r) that lie within Δ/2 of 0. */
  private nearZeroCorrection(l: number, r: number, step: number, rounding: number): number {
    const { counts, width } = this.bins;
    const half = step / 2;
    const reach = Math.ceil(half / width);
    const zero = this.zero;
    let correction = 0;
    // Bin zero + t covers [t·w, (t+1)·w) and bin zero − 1 − t covers −[(t+1)·w, t·w): |x| in the same span.
    for (let j = Math.max(zero, l); j < Math.min(zero + reach, r); j++) {
      correction += counts[j] * nearZeroExcess(j - zero, width, half, rounding);
    }
    for (let j = Math.max(zero - reach, l); j < Math.min(zero, r); j++) {
      correction += counts[j] * nearZeroExcess(zero - 1 - j, width, half, rounding);
    }
    return correction;
  }
}

/** Exact error per value of |x| uniform in [t·w, (t+1)·w), minus the Δ²/12 charged for it. */
function nearZeroExcess(t: number, width: number, half: number, rounding: number): number {
  const a = t * width;
  const b = a + width;
  const inner = Math.min(b, half);
  return (inner ** 3 - a ** 3) / (3 * width) + (Math.max(0, b - half) / width) * rounding - rounding;
}
