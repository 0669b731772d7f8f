import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_EMA_CONSTANT, TensorStats } from '../../src/calibrate/stats.js';
import { isQuantkitError } from '../../src/errors.js';
import { gaussian } from './samples.js';

const f32 = (values: number[]) => Float32Array.from(values);

test('exact min and max over batches, and the EMA of the per-batch ones', () => {
  const stats = new TensorStats('act', { emaConstant: 0.5 });
  stats.update(f32([-1, 2]));
  stats.update(f32([-3, 6]));
  stats.update(f32([-2, 4]));
  assert.deepEqual([stats.moments.min, stats.moments.max], [-3, 6]);
  // ema: -1 → -1 + ½(-3 + 1) = -2 → -2 + ½(-2 + 2) = -2; 2 → 2 + ½(6 − 2) = 4 → 4 + ½(4 − 4) = 4.
  assert.deepEqual([stats.emaMin, stats.emaMax], [-2, 4]);
  assert.equal(stats.batches, 3);
});

test('the default EMA constant is ONNX Runtime’s 0.01', () => {
  const stats = new TensorStats('act');
  assert.equal(stats.emaConstant, DEFAULT_EMA_CONSTANT);
  assert.equal(DEFAULT_EMA_CONSTANT, 0.01);
  stats.update(f32([0, 1]));
  stats.update(f32([0, 101]));
  assert.equal(stats.emaMax, 2); // 1 + 0.01 · (101 − 1)
});

test('batches without finite values leave the EMA alone; NaN and Inf are counted', () => {
  const stats = new TensorStats('act', { emaConstant: 0.5 });
  stats.update(f32([]));
  stats.update(f32([NaN, Infinity]));
  assert.ok(Number.isNaN(stats.emaMin));
  stats.update(f32([1, NaN, 3]));
  stats.update(f32([-Infinity]));
  assert.deepEqual([stats.emaMin, stats.emaMax], [1, 3]);
  assert.deepEqual(
    [stats.moments.count, stats.moments.nanCount, stats.moments.infCount, stats.batches],
    [2, 2, 2, 4],
  );
});

test('a histogram exists only when asked for, and sees the same values', () => {
  assert.equal(new TensorStats('a').histogram, undefined);
  const stats = new TensorStats('a', { histogram: 'abs', bins: 64 });
  stats.update(f32([-2, 1, NaN, 0.5]));
  const h = stats.histogram!;
  assert.equal(h.kind, 'abs');
  assert.equal(h.bins, 64);
  assert.equal(
    h.counts.reduce((a, b) => a + b, 0),
    3,
  );
  assert.deepEqual([h.moments.count, h.moments.min, h.moments.nanCount], [3, -2, 1]);
});

test('memory is independent of the number of batches', () => {
  const footprint = (s: TensorStats) =>
    JSON.stringify(s, (_, v) =>
      v instanceof Float64Array ? `f64[${v.length}]` : typeof v === 'number' ? 0 : v,
    );
  for (const histogram of [undefined, 'abs', 'signed'] as const) {
    const stats = new TensorStats('a', { histogram });
    stats.update(gaussian(1, 500));
    const after1 = footprint(stats);
    for (let i = 0; i < 300; i++) stats.update(gaussian(i + 2, 500, 1 + i / 20));
    assert.equal(footprint(stats), after1);
  }
});

test('an EMA constant outside [0, 1] is refused with the tensor name', () => {
  for (const emaConstant of [-0.1, 1.5, NaN]) {
    assert.throws(
      () => new TensorStats('conv1_out', { emaConstant }),
      (e: unknown) => isQuantkitError(e) && e.message.includes('conv1_out'),
    );
  }
});
