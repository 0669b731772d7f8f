import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RangeTarget } from '../../src/calibrate/estimator.js';
import {
  ESTIMATORS,
  type EstimatorName,
  estimateRange,
  histogramFor,
  isEstimatorName,
} from '../../src/calibrate/estimators.js';
import { TensorStats } from '../../src/calibrate/stats.js';
import { isQuantkitError } from '../../src/errors.js';
import { qparamsFromRange } from '../../src/quant/qparams.js';
import { gaussian, laplace, relu, statsOf, uniform, withOutliers } from './samples.js';

const NAMES = Object.keys(ESTIMATORS) as EstimatorName[];
const TARGETS: RangeTarget[] = [
  { type: 'int8', symmetric: true },
  { type: 'uint8', symmetric: false },
];

function estimate(method: EstimatorName, data: Float32Array, target: RangeTarget, batchCount = 1) {
  return estimateRange(
    method,
    statsOf(data, { histogram: histogramFor(method, target) }, batchCount),
    target,
  );
}

test('the registry: names, and histograms only where an estimator reads one', () => {
  assert.deepEqual(NAMES, ['minmax', 'ema', 'percentile', 'entropy', 'mse', 'aciq', 'admm']);
  assert.ok(isEstimatorName('entropy') && !isEstimatorName('easyquant') && !isEstimatorName('toString'));
  const [sym, asym] = TARGETS;
  assert.equal(histogramFor('minmax', sym), undefined);
  assert.equal(histogramFor('ema', asym), undefined);
  assert.equal(histogramFor('entropy', asym), 'abs');
  assert.equal(histogramFor('aciq', asym), 'abs');
  assert.equal(histogramFor('percentile', sym), 'abs');
  assert.equal(histogramFor('percentile', asym), 'signed');
  assert.equal(histogramFor('mse', asym), 'signed');
  assert.equal(histogramFor('admm', asym), 'signed');
});

test('huge outliers: minmax keeps their range; percentile, entropy, mse and aciq clip well inside it', () => {
  // Three outliers in 2^20 values: rare enough that even squared error (mse) clips them, to where
  // rounding and clipping balance (symmetric: T·N / (12·127²) = Σ(outlier − T), about a third).
  const cases = [
    withOutliers(gaussian(61, 1 << 20), [50, -48, 60]),
    withOutliers(laplace(62, 1 << 20), [100, -90, 80]),
  ];
  for (const data of cases) {
    const byKind = {
      abs: statsOf(data, { histogram: 'abs' }),
      signed: statsOf(data, { histogram: 'signed' }),
    };
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    for (const target of TARGETS) {
      assert.deepEqual(estimateRange('minmax', byKind.abs, target), { min: lo, max: hi });
      for (const method of ['percentile', 'entropy', 'mse', 'aciq'] as const) {
        const r = estimateRange(method, byKind[histogramFor(method, target)!], target);
        const clipped = r.max - r.min < (hi - lo) / 2 && r.min >= lo && r.max <= hi;
        assert.ok(clipped, `${method}: [${r.min}, ${r.max}] of [${lo}, ${hi}]`);
      }
    }
  }
});

test('uniform data: every method returns about the full range', () => {
  for (const [lo, target] of [
    [-1, TARGETS[0]],
    [-1, TARGETS[1]],
    [0, TARGETS[1]],
  ] as const) {
    const data = uniform(63, 200_000, lo, 1);
    for (const method of NAMES) {
      const r = estimate(method, data, target);
      assert.ok(Math.abs(r.max - 1) < 0.01, `${method} on [${lo}, 1): max ${r.max}`);
      assert.ok(Math.abs(r.min - lo) < 0.01 || (lo === -1 && target.symmetric && r.min === -r.max), method);
    }
  }
});

test('constant, all-zero, one-value and empty tensors get a finite range qparamsFromRange accepts', () => {
  const tensors = [
    new Float32Array(1000),
    new Float32Array(1000).fill(5),
    new Float32Array(1000).fill(-0.25),
    Float32Array.from([3]),
    new Float32Array(0),
    Float32Array.from([0, 0, 0, 0, 7]),
  ];
  for (const data of tensors) {
    for (const target of TARGETS) {
      for (const method of NAMES) {
        const r = estimate(method, data, target);
        assert.ok(Number.isFinite(r.min) && Number.isFinite(r.max) && r.min <= r.max, `${method}: ${r}`);
        const { scale } = qparamsFromRange(r.min, r.max, target);
        assert.ok(Number.isFinite(scale) && scale > 0);
      }
    }
  }
});

test('streaming: 1 batch and 50 batches give the same ranges', () => {
  const data = withOutliers(
    relu(laplace(64, 100_000)).map((v, i) => v - (i % 5 === 0 ? 0.4 : 0)),
    [30],
  );
  for (const target of TARGETS) {
    for (const method of NAMES.filter((n) => n !== 'ema')) {
      assert.deepEqual(estimate(method, data, target, 50), estimate(method, data, target, 1), method);
    }
  }
});

test('ema follows the moving average of batch extremes', () => {
  const stats = new TensorStats('a', { emaConstant: 0.5 });
  stats.update(Float32Array.from([-1, 1]));
  stats.update(Float32Array.from([-3, 9]));
  assert.deepEqual(estimateRange('ema', stats, TARGETS[1]), { min: -2, max: 5 });
});

test('histogram estimators without a histogram, and all-NaN tensors, fail with the tensor name', () => {
  const plain = new TensorStats('layer3/relu');
  plain.update(gaussian(65, 100));
  for (const method of ['percentile', 'entropy', 'mse', 'aciq', 'admm'] as const) {
    assert.throws(
      () => estimateRange(method, plain, TARGETS[0]),
      (e: unknown) => isQuantkitError(e) && e.message.includes('layer3/relu') && e.message.includes(method),
    );
  }
  const broken = new TensorStats('attn/softmax', { histogram: 'abs' });
  broken.update(Float32Array.from([NaN, Infinity]));
  for (const method of NAMES) {
    assert.throws(
      () => estimateRange(method, broken, TARGETS[0]),
      (e: unknown) => isQuantkitError(e) && e.message.includes('attn/softmax') && e.message.includes('NaN'),
    );
  }
});

test('NaN among finite values: the range comes from the finite ones', () => {
  const data = Float32Array.from([...gaussian(66, 10_000), NaN, Infinity]);
  for (const method of NAMES) {
    const r = estimate(method, data, TARGETS[0]);
    assert.ok(Number.isFinite(r.min) && Number.isFinite(r.max) && r.max < 10, method);
  }
});
