/**
 * ADMM calibration, as in MNN's quantization tool (DOMAIN.md §3): minimise Σ n·(x − S·q)² over the
 * histogram's bin centres x weighted by their counts n, alternating
 *   q ← clamp(round(x / S)) for the current S, and
 *   S ← Σ n·x·q / Σ n·q² (least squares) for the current q,
 * from the minmax scale until S stops moving. Neither step can raise the error, so it never exceeds
 * the minmax scale's and the iteration ends at a fixed point.
 *
 * Symmetric targets run on |x| with q in [0, qmax − zero point]. Asymmetric targets run on x with
 * q in a window [L, L + qmax − qmin] (L = qmin − Z, so the window holds 0); before each scale update,
 * L is also set to the best window for the current S (an O(bins + codes) sweep with prefix sums), so the
 * zero point moves with the scale instead of keeping the minmax share of codes on each side.
 *
 * The returned range is the one whose qparamsFromRange reproduces S (and Z): it can reach slightly past
 * the observed range when the least-squares scale puts the last code beyond max.
 */

import { quantRange, symmetricZeroPoint } from '../quant/types.js';
import { roundHalfEven } from '../quant/rounding.js';
import { type Bins, magnitudeBins, valueBins } from './bins.js';
import { type ClipRange, type RangeTarget, observedRange } from './estimator.js';
import type { TensorStats } from './stats.js';

export interface AdmmOptions {
  /** Limit on scale updates. Default 1000 (convergence usually takes a few dozen). */
  maxIterations?: number;
}

export interface AdmmSolution {
  scale: number;
  /** Lowest code of the window, relative to the zero point (≤ 0). */
  low: number;
  iterations: number;
  converged: boolean;
}

const DEFAULT_MAX_ITERATIONS = 1000;
const RELATIVE_TOLERANCE = 1e-12;

export function admmRange(stats: TensorStats, target: RangeTarget, options: AdmmOptions = {}): ClipRange {
  const observed = observedRange(stats);
  if (observed.min === observed.max) return observed;
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const range = quantRange(target.type, target);
  const steps = range.qmax - range.qmin;
  if (target.symmetric) {
    const top = range.qmax - symmetricZeroPoint(range);
    const start = (2 * stats.moments.maxAbs) / steps;
    const { scale } = solveAdmm(magnitudeBins(stats, 'admm'), start, 0, top, false, maxIterations);
    const threshold = (scale * steps) / 2;
    return { min: -threshold, max: threshold };
  }
  const lo = Math.min(observed.min, 0);
  const hi = Math.max(observed.max, 0);
  const start = (hi - lo) / steps;
  const zeroPoint = Math.min(Math.max(roundHalfEven(range.qmin - lo / start), range.qmin), range.qmax);
  const low = range.qmin - zeroPoint;
  const solution = solveAdmm(valueBins(stats, 'admm'), start, low, steps, true, maxIterations);
  return { min: solution.scale * solution.low, max: solution.scale * (solution.low + steps) };
}

/**
 * Alternating minimisation from scale `start` with codes in [low, low + span]; with `shiftable` the
 * window may slide (low in [−span, 0]) to its best position before each scale update.
 */
export function solveAdmm(
  bins: Bins,
  start: number,
  low: number,
  span: number,
  shiftable: boolean,
  maxIterations: number,
): AdmmSolution {
  const { counts, first, width } = bins;
  const m = counts.length;
  const centres = new Float64Array(m);
  for (let j = 0; j < m; j++) centres[j] = (first + j + 0.5) * width;
  const window = shiftable ? new WindowSearch(counts, centres, span) : undefined;
  let scale = start;
  for (let it = 1; it <= maxIterations; it++) {
    if (window) low = window.best(scale, low);
    const high = low + span;
    let num = 0;
    let den = 0;
    for (let j = 0; j < m; j++) {
      const c = counts[j];
      if (c === 0) continue;
      const q = Math.min(Math.max(roundHalfEven(centres[j] / scale), low), high);
      num += c * centres[j] * q;
      den += c * q * q;
    }
    if (den === 0) return { scale, low, iterations: it, converged: true };
    const next = num / den;
    const moved = Math.abs(next - scale) > RELATIVE_TOLERANCE * scale;
    scale = next;
    if (!moved) return { scale, low, iterations: it, converged: true };
  }
  return { scale, low, iterations: maxIterations, converged: false };
}

/**
 * For a scale S, the window [L, L + span] (L in [−span, 0]) with the least Σ n·(x − S·clamp(q, L, L+span))²,
 * q = round(x / S). q is non-decreasing over the sorted centres, so the clipped-below, inside and
 * clipped-above bins are index ranges, and prefix sums of n, n·x, n·x² and the unclipped error price
 * each window in O(1).
 */
class WindowSearch {
  private readonly p0: Float64Array;
  private readonly p1: Float64Array;
  private readonly p2: Float64Array;
  private readonly pe: Float64Array;
  private readonly codes: Float64Array;

  constructor(
    private readonly counts: Float64Array,
    private readonly centres: Float64Array,
    private readonly span: number,
  ) {
    const m = counts.length;
    this.p0 = new Float64Array(m + 1);
    this.p1 = new Float64Array(m + 1);
    this.p2 = new Float64Array(m + 1);
    this.pe = new Float64Array(m + 1);
    this.codes = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const c = counts[j];
      const x = centres[j];
      this.p0[j + 1] = this.p0[j] + c;
      this.p1[j + 1] = this.p1[j] + c * x;
      this.p2[j + 1] = this.p2[j] + c * x * x;
    }
  }

  best(scale: number, current: number): number {
    const { counts, centres, codes, p0, p1, p2, pe, span } = this;
    const m = counts.length;
    for (let j = 0; j < m; j++) {
      const q = roundHalfEven(centres[j] / scale);
      codes[j] = q;
      pe[j + 1] = pe[j] + counts[j] * (centres[j] - scale * q) ** 2;
    }
    let below = 0;
    let inside = 0;
    let best = current;
    let bestErr = Infinity;
    for (let low = -span; low <= 0; low++) {
      const high = low + span;
      while (below < m && codes[below] < low) below++;
      while (inside < m && codes[inside] <= high) inside++;
      const a = scale * low;
      const b = scale * high;
      const err =
        p2[below] -
        2 * a * p1[below] +
        a * a * p0[below] +
        (pe[inside] - pe[below]) +
        (p2[m] - p2[inside]) -
        2 * b * (p1[m] - p1[inside]) +
        b * b * (p0[m] - p0[inside]);
      // Ties (no data near either end: the clipped sums are exact zeros) keep the window nearest the
      // current one instead of sliding it for nothing.
      if (err < bestErr || (err === bestErr && Math.abs(low - current) < Math.abs(best - current))) {
        bestErr = err;
        best = low;
      }
    }
    return best;
  }
}
