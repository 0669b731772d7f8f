import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admmRange, solveAdmm } from '../../src/calibrate/admm.js';
import { histogramFor } from '../../src/calibrate/estimators.js';
import type { RangeTarget } from '../../src/calibrate/estimator.js';
import type { TensorStats } from '../../src/calibrate/stats.js';
import { qparamsFromRange } from '../../src/quant/qparams.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { quantRange } from '../../src/quant/types.js';
import { gaussian, laplace, relu, statsOf, withOutliers } from './samples.js';

const INT8: RangeTarget = { type: 'int8', symmetric: true };
const UINT8: RangeTarget = { type: 'uint8', symmetric: false };

/** Bin centres and counts of the histogram (of |x| for an 'abs' one), read straight from it. */
function centres(stats: TensorStats): Array<[number, number]> {
  const h = stats.histogram!;
  const out: Array<[number, number]> = [];
  h.counts.forEach((c, i) => c > 0 && out.push([(h.first + i + 0.5) * h.width, c]));
  return out;
}

/** Σ n·(x − S·(q − Z))² with q = clamp(round(x/S) + Z, qmin, qmax): the error of scale S, zero point Z. */
function weightedError(points: Array<[number, number]>, s: number, z: number, qmin: number, qmax: number) {
  let err = 0;
  for (const [x, n] of points) {
    const q = Math.min(Math.max(roundHalfEven(x / s) + z, qmin), qmax);
    err += n * (x - s * (q - z)) ** 2;
  }
  return err;
}

const cases: Array<[string, Float32Array]> = [
  ['gaussian + outliers', withOutliers(gaussian(51, 1 << 18), [50, -48, 45, 60, -55])],
  ['laplace + outliers', withOutliers(laplace(52, 1 << 18), [80, -90])],
  ['relu', relu(gaussian(53, 1 << 18))],
  ['skewed', laplace(54, 1 << 18).map((v) => (v > 0 ? 3 * v : v))],
];

test('symmetric: the error never exceeds the minmax scale’s, and S is a fixed point of the update', () => {
  for (const [name, data] of cases) {
    const stats = statsOf(data, { histogram: 'abs' });
    const points = centres(stats);
    const r = admmRange(stats, INT8);
    const s = (2 * r.max) / 254;
    const start = (2 * stats.moments.maxAbs) / 254;
    assert.ok(
      weightedError(points, s, 0, 0, 127) <= weightedError(points, start, 0, 0, 127),
      `${name}: worse than minmax`,
    );
    // Fixed point: S = Σ n·x·q / Σ n·q² for q = clamp(round(x/S), 0, 127).
    let num = 0;
    let den = 0;
    for (const [x, n] of points) {
      const q = Math.min(roundHalfEven(x / s), 127);
      num += n * x * q;
      den += n * q * q;
    }
    assert.ok(Math.abs(num / den - s) <= 1e-9 * s, `${name}: not converged`);
    assert.equal(r.min, -r.max);
  }
});

test('asymmetric: the error (scale and zero point) never exceeds the minmax one’s', () => {
  const { qmin, qmax } = quantRange('uint8');
  for (const [name, data] of cases) {
    const stats = statsOf(data, { histogram: histogramFor('admm', UINT8) });
    const points = centres(stats);
    const r = admmRange(stats, UINT8);
    // The range reproduces S and an integer zero point in [qmin, qmax].
    const s = (r.max - r.min) / 255;
    const z = Math.round(qmin - r.min / s);
    assert.ok(
      Math.abs(qmin - r.min / s - z) < 1e-6 && z >= qmin && z <= qmax,
      `${name}: Z = ${qmin - r.min / s}`,
    );
    const minmax = qparamsFromRange(stats.moments.min, stats.moments.max, UINT8);
    const lo = Math.min(stats.moments.min, 0);
    const start = (Math.max(stats.moments.max, 0) - lo) / 255;
    const startZ = Math.min(Math.max(roundHalfEven(qmin - lo / start), qmin), qmax);
    assert.equal(startZ, minmax.zeroPoint);
    assert.ok(
      weightedError(points, s, z, qmin, qmax) <=
        weightedError(points, start, startZ, qmin, qmax) * (1 + 1e-12),
      `${name}: worse than minmax`,
    );
  }
});

test('the iteration converges in far fewer steps than its limit, and each step only lowers the error', () => {
  const stats = statsOf(withOutliers(laplace(55, 1 << 16), [40]), { histogram: 'abs' });
  const h = stats.histogram!;
  const bins = {
    counts: h.counts,
    first: h.first,
    width: h.width,
    lo: 0,
    hi: stats.moments.maxAbs,
    total: 1 << 16,
  };
  const points = centres(stats);
  const full = solveAdmm(bins, (2 * stats.moments.maxAbs) / 254, 0, 127, false, 1000);
  assert.ok(full.converged && full.iterations < 200, `${full.iterations} iterations`);
  let previous = weightedError(points, (2 * stats.moments.maxAbs) / 254, 0, 0, 127);
  for (let k = 1; k <= 12; k++) {
    const partial = solveAdmm(bins, (2 * stats.moments.maxAbs) / 254, 0, 127, false, k);
    const err = weightedError(points, partial.scale, 0, 0, 127);
    assert.ok(err <= previous * (1 + 1e-12), `step ${k}: ${err} > ${previous}`);
    previous = err;
  }
});
