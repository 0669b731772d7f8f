import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entropyRange } from '../../src/calibrate/entropy.js';
import type { RangeTarget } from '../../src/calibrate/estimator.js';
import type { TensorStats } from '../../src/calibrate/stats.js';
import { gaussian, laplace, relu, statsOf, uniform, withOutliers } from './samples.js';

const INT8: RangeTarget = { type: 'int8', symmetric: true };
const UINT8: RangeTarget = { type: 'uint8', symmetric: false };

/**
 * The method as DOMAIN.md and the module describe it, bin by bin in O(bins²): bin 0 set to bin 1,
 * P = first i bins + folded tail (at most half of the values), Q = groups floor(j · levels / i) spread
 * over P's non-zero bins (1e-4 where a group is empty), KL of the normalised P and Q, last minimum.
 */
function naiveThreshold(stats: TensorStats, levelsAt: (t: number) => number): number {
  const h = stats.histogram!;
  const end = Math.floor(stats.moments.maxAbs / h.width) + 1;
  const c = Array.from(h.counts.subarray(0, end));
  c[0] = c[1];
  let best = -1;
  let bestKl = Infinity;
  for (let i = 1; i <= c.length; i++) {
    const t = i < c.length ? i * h.width : stats.moments.maxAbs;
    const levels = levelsAt(t);
    const tail = c.slice(i).reduce((a, b) => a + b, 0);
    if (i < levels || tail > c.reduce((a, b) => a + b, 0) / 2) continue;
    const p = c.slice(0, i);
    p[i - 1] += tail;
    const group = (j: number) => Math.floor((j * levels) / i);
    const sum = new Array<number>(levels).fill(0);
    const support = new Array<number>(levels).fill(0);
    for (let j = 0; j < i; j++) {
      sum[group(j)] += c[j];
      if (p[j] > 0) support[group(j)]++;
    }
    const q = p.map((pj, j) => (pj === 0 ? 0 : sum[group(j)] > 0 ? sum[group(j)] / support[group(j)] : 1e-4));
    const sp = p.reduce((a, b) => a + b, 0);
    const sq = q.reduce((a, b) => a + b, 0);
    let kl = 0;
    for (let j = 0; j < i; j++) if (p[j] > 0) kl += (p[j] / sp) * Math.log(p[j] / sp / (q[j] / sq));
    if (kl <= bestKl + 1e-12) {
      bestKl = Math.min(kl, bestKl);
      best = t;
    }
  }
  return best;
}

test('matches a bin-by-bin implementation of the method', () => {
  const cases: Array<[Float32Array, RangeTarget, (t: number) => number]> = [
    // int4 symmetric: step 2T/14, 8 levels on [0, T].
    [withOutliers(gaussian(21, 40_000), [9, -12]), { type: 'int4', symmetric: true }, () => 8],
    // uint4 on x ≥ 0: step T/15, all 16 levels.
    [relu(laplace(22, 40_000)), { type: 'uint4', symmetric: false }, () => 16],
    // int8 symmetric on a skewed tensor: 128 levels.
    [laplace(23, 40_000).map((v) => Math.max(v, -0.5)), INT8, () => 128],
  ];
  for (const [data, target, levelsAt] of cases) {
    const stats = statsOf(data, { histogram: 'abs', bins: 384 });
    const expected = naiveThreshold(stats, levelsAt);
    assert.ok(expected > 0);
    assert.equal(entropyRange(stats, target).max, Math.min(expected, stats.moments.max));
  }
});

test('Gaussian with huge outliers: the threshold lies at a few σ, far inside the outliers', () => {
  const data = withOutliers(gaussian(24, 1 << 20), [50, -48, 45, 60, -55]);
  const r = entropyRange(statsOf(data, { histogram: 'abs' }), INT8);
  assert.ok(r.max > 3 && r.max < 6, `T = ${r.max}`);
  assert.equal(r.min, -r.max);
});

test('Laplace with huge outliers: the threshold lies at several b, far inside the outliers', () => {
  const data = withOutliers(laplace(25, 1 << 20), [80, -90, 70]);
  const r = entropyRange(statsOf(data, { histogram: 'signed' }), INT8);
  assert.ok(r.max > 6 && r.max < 20, `T = ${r.max}`);
});

test('ReLU outputs: the zero spike does not drag the threshold down; unsigned gets all 256 levels', () => {
  const data = relu(gaussian(26, 1 << 19));
  const stats = statsOf(data, { histogram: 'abs' });
  const symmetric = entropyRange(stats, INT8);
  const unsigned = entropyRange(stats, UINT8);
  assert.equal(symmetric.min, 0);
  assert.ok(symmetric.max > 3, `T = ${symmetric.max}`);
  // Twice the levels means half the rounding noise, so clipping pays less: T can only grow.
  assert.ok(unsigned.max >= symmetric.max, `${unsigned.max} < ${symmetric.max}`);
});

test('uniform data keeps its full range', () => {
  for (const [lo, target] of [
    [-1, INT8],
    [0, UINT8],
  ] as const) {
    const r = entropyRange(statsOf(uniform(27, 200_000, lo, 1), { histogram: 'abs' }), target);
    assert.ok(r.max > 0.99, `T = ${r.max}`);
  }
});

test('data far from 0: never a threshold that clips more than half of the values', () => {
  const data = gaussian(29, 100_000).map((v) => 100 + v);
  const r = entropyRange(statsOf(data, { histogram: 'abs' }), INT8);
  assert.ok(r.max >= 100, `T = ${r.max}`);
});

test('16-bit: more levels than bins, so the observed range', () => {
  const stats = statsOf(withOutliers(gaussian(28, 10_000), [40]), { histogram: 'abs' });
  const r = entropyRange(stats, { type: 'int16', symmetric: true });
  assert.deepEqual(r, { min: stats.moments.min, max: 40 });
});
