import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RangeTarget } from '../../src/calibrate/estimator.js';
import { histogramFor } from '../../src/calibrate/estimators.js';
import { mseRange } from '../../src/calibrate/mse.js';
import { ClipErrorModel } from '../../src/calibrate/quantization-error.js';
import { qparamsFromRange } from '../../src/quant/qparams.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { quantRange } from '../../src/quant/types.js';
import { gaussian, laplace, relu, statsOf, withOutliers } from './samples.js';

const INT8: RangeTarget = { type: 'int8', symmetric: true };
const UINT8: RangeTarget = { type: 'uint8', symmetric: false };

/** Σ (dequantize(quantize(x)) − x)² over the samples, with the scale and zero point the range gives. */
function quantizationError(data: Float32Array, min: number, max: number, target: RangeTarget): number {
  const { scale, zeroPoint } = qparamsFromRange(min, max, target);
  const { qmin, qmax } = quantRange(target.type, target);
  let err = 0;
  for (let i = 0; i < data.length; i++) {
    const q = Math.min(Math.max(roundHalfEven(data[i] / scale) + zeroPoint, qmin), qmax);
    err += (scale * (q - zeroPoint) - data[i]) ** 2;
  }
  return err;
}

function grid(lo: number, hi: number, points: number): number[] {
  return Array.from({ length: points }, (_, k) => lo + ((hi - lo) * k) / (points - 1));
}

test('the error model: Δ²/12 inside, exact within Δ/2 of 0, uniform-in-bin clipping', () => {
  // One value in [0, 1), one in [3, 4).
  const bins = { counts: Float64Array.from([1, 0, 0, 1]), first: 0, width: 1, lo: 0.5, hi: 3.5, total: 2 };
  const model = new ClipErrorModel(bins);
  // Step 4: the value near 0 rounds to 0, E[x²] = 1/3; the other is charged 4²/12.
  assert.ok(Math.abs(model.error(0, 4, 4) - (1 / 3 + 16 / 12)) < 1e-12);
  // Clipped at 3: E[(x − 3)²] = 1/3 for x uniform in [3, 4); step 1 inside: 1/12.
  assert.ok(Math.abs(model.error(0, 3, 1) - (1 / 3 + 1 / 12)) < 1e-12);
  // Clipped below at edge 1 (α = 1): the value in [0, 1) costs E[(x − 1)²] = 1/3.
  assert.ok(Math.abs(model.error(1, 4, 1) - (1 / 3 + 1 / 12)) < 1e-12);
});

test('symmetric: the range is as good as the best threshold of a fine search on the real error', () => {
  const cases: Array<[string, Float32Array]> = [
    ['gaussian + outliers', withOutliers(gaussian(31, 1 << 15), [20, -12])],
    ['laplace', laplace(32, 1 << 15)],
    ['relu', relu(gaussian(33, 1 << 15))],
  ];
  for (const [name, data] of cases) {
    const stats = statsOf(data, { histogram: 'abs' });
    const r = mseRange(stats, INT8);
    let best = Infinity;
    for (const t of grid(0.5, stats.moments.maxAbs, 150)) {
      best = Math.min(best, quantizationError(data, -t, t, INT8));
    }
    const chosen = quantizationError(data, r.min, r.max, INT8);
    assert.ok(chosen <= 1.02 * best, `${name}: ${chosen} vs best ${best} (T = ${r.max})`);
  }
});

test('Gaussian and Laplace with rare huge outliers: clipped well inside them', () => {
  // Squared error keeps an outlier unless outliers are rarer than about Δ²/12 / x² ≈ 1 / (12 · 127²) ≈
  // 5e-6 of the values: 3 and 1 in 2^20 are.
  for (const data of [
    withOutliers(gaussian(34, 1 << 20), [50, -48, 60]),
    withOutliers(laplace(35, 1 << 20), [90]),
  ]) {
    const stats = statsOf(data, { histogram: 'abs' });
    const r = mseRange(stats, INT8);
    assert.ok(r.max < stats.moments.maxAbs / 3, `[${r.min}, ${r.max}]`);
  }
});

test('asymmetric: as good as the best [α, β] of a grid search on the real error', () => {
  const g = gaussian(36, 1 << 14);
  const cases: Array<[string, Float32Array]> = [
    // GELU: a short negative tail, a long positive one.
    ['gelu', g.map((v) => 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v ** 3))))],
    [
      'skewed laplace',
      withOutliers(
        laplace(37, 1 << 14).map((v) => (v > 0 ? 2 * v : v)),
        [-40, 70],
      ),
    ],
    ['relu', relu(laplace(38, 1 << 14))],
  ];
  for (const [name, data] of cases) {
    const stats = statsOf(data, { histogram: histogramFor('mse', UINT8) });
    const r = mseRange(stats, UINT8);
    const { min, max } = stats.moments;
    let best = Infinity;
    for (const a of grid(Math.min(min, 0), 0, 20)) {
      for (const b of grid(max / 20, max, 40)) best = Math.min(best, quantizationError(data, a, b, UINT8));
    }
    const chosen = quantizationError(data, r.min, r.max, UINT8);
    assert.ok(chosen <= 1.02 * best, `${name}: ${chosen} vs best ${best} ([${r.min}, ${r.max}])`);
    assert.ok(r.min >= min && r.max <= max);
  }
});
