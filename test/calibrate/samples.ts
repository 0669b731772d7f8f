/** Seeded samples of distributions whose calibration ranges are known. */

import { TensorStats, type TensorStatsOptions } from '../../src/calibrate/stats.js';
import { createRng, type Rng } from '../../src/tensor/random.js';

/** Uniform in (0, 1): never exactly 0, so logs stay finite. */
function open01(rng: Rng): number {
  return (rng.nextUint32() + 0.5) * 2 ** -32;
}

/** N(0, σ²) by Box–Muller. */
export function gaussian(seed: number, n: number, sigma = 1): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = sigma * Math.sqrt(-2 * Math.log(open01(rng)));
    const t = 2 * Math.PI * rng.nextFloat();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Laplace(0, b) by inverse CDF: ±b·ln(u), the sign from a second draw. */
export function laplace(seed: number, n: number, b = 1): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const magnitude = -b * Math.log(open01(rng));
    out[i] = rng.nextFloat() < 0.5 ? -magnitude : magnitude;
  }
  return out;
}

/** Uniform on [lo, hi). */
export function uniform(seed: number, n: number, lo: number, hi: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.nextFloat();
  return out;
}

/** Overwrites evenly spaced elements with the given outliers. */
export function withOutliers(data: Float32Array, outliers: readonly number[]): Float32Array {
  const out = data.slice();
  const stride = Math.floor(out.length / outliers.length);
  outliers.forEach((v, k) => (out[k * stride + 7] = v));
  return out;
}

/** Splits data into `count` consecutive batches of nearly equal size. */
export function batches(data: Float32Array, count: number): Float32Array[] {
  const size = Math.ceil(data.length / count);
  const out: Float32Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** TensorStats fed `data` in `batchCount` batches. */
export function statsOf(data: Float32Array, options: TensorStatsOptions = {}, batchCount = 1): TensorStats {
  const stats = new TensorStats('t', options);
  for (const b of batches(data, batchCount)) stats.update(b);
  return stats;
}

/** ReLU of the data: half of a zero-mean input becomes exact zeros. */
export function relu(data: Float32Array): Float32Array {
  return data.map((v) => Math.max(v, 0));
}
