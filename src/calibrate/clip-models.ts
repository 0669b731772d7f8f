/**
 * ACIQ's analytical model of quantization error (Banner, Nahshan, Soudry 2019): for |x| distributed as
 * the magnitude of a zero-mean Laplace(b) or Gaussian(σ), clipping at T costs E[(|x| − T)²; |x| > T]
 *   Laplace:  2b² e^(−T/b)
 *   Gaussian: (T² + σ²) erfc(T / σ√2) − T σ √(2/π) e^(−T²/2σ²)
 * and rounding inside costs Δ²/12. The optimal T minimises their sum for the step Δ(T) the target gives;
 * it is found numerically, so any bit width and code range works. With Banner's Δ = 2T / 2^M this
 * reproduces the paper's α* = 2.83b, 3.89b, 5.03b, 9.89b for M = 2, 3, 4, 8.
 */

import { erfc } from './erfc.js';

export type ClipDistribution = 'laplace' | 'gaussian';

export interface DistributionFit {
  distribution: ClipDistribution;
  /** b for Laplace, σ for Gaussian. */
  scale: number;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GRID_POINTS = 256;
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** E[(|x| − T)²; |x| > T] per value. */
export function clippingError(fit: DistributionFit, threshold: number): number {
  const s = fit.scale;
  if (fit.distribution === 'laplace') return 2 * s * s * Math.exp(-threshold / s);
  const u = threshold / s;
  return (
    (threshold * threshold + s * s) * erfc(u / Math.SQRT2) -
    threshold * s * SQRT_2_OVER_PI * Math.exp(-0.5 * u * u)
  );
}

/**
 * The T in (0, upper] minimising clippingError(T) + Δ(T)²/12: the best of 256 evenly spaced points,
 * refined by golden-section search between its neighbours (Δ(T) can bend where the range meets the
 * observed min, so the objective is not assumed convex over the whole interval).
 */
export function optimalThreshold(
  fit: DistributionFit,
  stepAt: (threshold: number) => number,
  upper: number,
): number {
  const cost = (t: number) => clippingError(fit, t) + stepAt(t) ** 2 / 12;
  let best = 1;
  let bestCost = Infinity;
  for (let k = 1; k <= GRID_POINTS; k++) {
    const c = cost((upper * k) / GRID_POINTS);
    if (c < bestCost) {
      bestCost = c;
      best = k;
    }
  }
  let a = (upper * (best - 1)) / GRID_POINTS;
  let b = (upper * Math.min(best + 1, GRID_POINTS)) / GRID_POINTS;
  let x1 = b - GOLDEN * (b - a);
  let x2 = a + GOLDEN * (b - a);
  let f1 = cost(x1);
  let f2 = cost(x2);
  while (b - a > 1e-12 * upper) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - GOLDEN * (b - a);
      f1 = cost(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + GOLDEN * (b - a);
      f2 = cost(x2);
    }
  }
  const refined = (a + b) / 2;
  return cost(refined) <= bestCost ? refined : (upper * best) / GRID_POINTS;
}
