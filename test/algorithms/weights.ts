/** Seeded test weights and error measures for the weight quantizers. */
import { createRng } from '../../src/tensor/random.js';

/**
 * A [k, n] weight like a trained layer's: Gaussian (σ 0.02) with 0.5% of the entries 8× larger, the
 * outliers that make min–max block scales coarse.
 */
export function weightWithOutliers(k: number, n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const w = new Float32Array(k * n);
  for (let i = 0; i < w.length; i++) {
    const u = rng.nextFloat() + 2 ** -32;
    const gauss = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
    w[i] = 0.02 * gauss * (rng.nextFloat() < 0.005 ? 8 : 1);
  }
  return w;
}

export function rmse(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

/** ‖X·W − X·W'‖ / ‖X·W‖ over `m` seeded random rows X (float64 products). */
export function outputError(w: Float32Array, approx: Float32Array, k: number, n: number, m = 32): number {
  const rng = createRng(99);
  const x = Float64Array.from({ length: m * k }, () => 2 * rng.nextFloat() - 1);
  let err = 0;
  let ref = 0;
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < n; c++) {
      let exact = 0;
      let q = 0;
      for (let r = 0; r < k; r++) {
        exact += x[i * k + r] * w[r * n + c];
        q += x[i * k + r] * approx[r * n + c];
      }
      err += (exact - q) ** 2;
      ref += exact ** 2;
    }
  }
  return Math.sqrt(err / ref);
}
