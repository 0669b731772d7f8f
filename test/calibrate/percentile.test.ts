import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binQuantile, percentileRange } from '../../src/calibrate/percentile.js';
import { isQuantkitError } from '../../src/errors.js';
import { gaussian, statsOf, uniform, withOutliers } from './samples.js';

const INT8 = { type: 'int8', symmetric: true } as const;
const UINT8 = { type: 'uint8', symmetric: false } as const;
const OUTLIERS = [50, -48, 45, 60, -55];

const near = (actual: number, expected: number, rel: number) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${actual} vs ${expected}`);

test('linear interpolation inside the bin where the cumulative count crosses q', () => {
  const bins = { counts: Float64Array.from([2, 2]), first: 0, width: 1, lo: 0.2, hi: 1.9, total: 4 };
  assert.equal(binQuantile(bins, 0.25), 0.5);
  assert.equal(binQuantile(bins, 0.75), 1.5);
  assert.equal(binQuantile(bins, 1), 1.9); // bin edge 2, clamped to the observed max
  assert.equal(binQuantile(bins, 0), 0.2);
});

test('symmetric: the percentile of |x| of a Gaussian, outliers clipped away', () => {
  const data = withOutliers(gaussian(11, 1 << 20), OUTLIERS);
  const stats = statsOf(data, { histogram: 'abs' });
  // Φ⁻¹(1 − 0.001/2) = 3.2905 and Φ⁻¹(1 − 0.0001/2) = 3.8906.
  const r999 = percentileRange(stats, INT8, { percentile: 99.9 });
  near(r999.max, 3.2905, 0.02);
  assert.equal(r999.min, -r999.max);
  near(percentileRange(stats, INT8, { percentile: 99.99 }).max, 3.8906, 0.02);
  const all = percentileRange(stats, INT8, { percentile: 100 });
  assert.deepEqual(all, { min: -55, max: 60 });
});

test('asymmetric: each tail at the percentile of x', () => {
  const data = withOutliers(gaussian(12, 1 << 20), OUTLIERS);
  const r = percentileRange(statsOf(data, { histogram: 'signed' }), UINT8, { percentile: 99.9 });
  // Φ⁻¹(0.999) = 3.0902.
  near(r.max, 3.0902, 0.02);
  near(r.min, -3.0902, 0.02);
});

test('uniform data: the percentile within one bin width', () => {
  const stats = statsOf(uniform(13, 200_000, -1, 1), { histogram: 'abs' });
  const width = stats.histogram!.width;
  assert.ok(Math.abs(percentileRange(stats, INT8, { percentile: 99 }).max - 0.99) < width + 0.002);
});

test('percentiles outside [50, 100] are refused', () => {
  const stats = statsOf(gaussian(1, 100), { histogram: 'abs' });
  for (const percentile of [49, 100.5, NaN]) {
    assert.throws(() => percentileRange(stats, INT8, { percentile }), isQuantkitError);
  }
});

test('an asymmetric range from an |x| histogram of signed data is refused, of x ≥ 0 accepted', () => {
  assert.throws(
    () => percentileRange(statsOf(gaussian(1, 100), { histogram: 'abs' }), UINT8),
    (e: unknown) => isQuantkitError(e) && e.message.includes("histogram: 'signed'"),
  );
  const positive = statsOf(uniform(2, 10_000, 0, 4), { histogram: 'abs' });
  const r = percentileRange(positive, UINT8, { percentile: 99 });
  near(r.max, 3.96, 0.01);
  near(r.min, 0.04, 0.1);
});
