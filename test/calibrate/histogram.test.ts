import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitExponent, floorLog2, Histogram } from '../../src/calibrate/histogram.js';
import { isQuantkitError } from '../../src/errors.js';
import { batches, gaussian, laplace } from './samples.js';

const f32 = (values: number[]) => Float32Array.from(values);

test('first batch: the smallest power-of-two width whose aligned bins hold [min, max]', () => {
  const h = new Histogram('signed', 4);
  h.update(f32([0.1, 0.2, 0.3, 0.9]));
  // w = 1/8 needs bins 0..7 (8 > 4); w = 1/4 needs bins 0..3: [0, .25) [.25, .5) [.5, .75) [.75, 1).
  assert.equal(h.width, 0.25);
  assert.equal(h.first, 0);
  assert.deepEqual([...h.counts], [2, 1, 0, 1]);
});

test('a batch outside the range doubles the width and merges bins exactly', () => {
  const h = new Histogram('signed', 4);
  h.update(f32([0.1, 0.2, 0.3, 0.9]));
  h.update(f32([-0.6]));
  // [-0.6, 0.9] needs global bins -3..3 at w = 1/4 (7 bins), -2..1 at w = 1/2:
  // [-1, -.5) holds -0.6, [0, .5) holds 0.1 0.2 0.3, [.5, 1) holds 0.9.
  assert.equal(h.width, 0.5);
  assert.equal(h.first, -2);
  assert.deepEqual([...h.counts], [1, 0, 3, 1]);
  assert.deepEqual([h.moments.count, h.moments.min, h.moments.max], [5, Math.fround(-0.6), Math.fround(0.9)]);
});

test('an |x| histogram starts at 0', () => {
  const h = new Histogram('abs', 4);
  h.update(f32([-0.9, 0.1, 0.3]));
  assert.equal(h.width, 0.25);
  assert.equal(h.first, 0);
  assert.deepEqual([...h.counts], [1, 1, 0, 1]);
  h.update(f32([1.7]));
  // |x| up to 1.7 at w = 1/2: [0, .5) holds 0.1 0.3, [.5, 1) holds 0.9, [1.5, 2) holds 1.7.
  assert.equal(h.width, 0.5);
  assert.deepEqual([...h.counts], [2, 1, 0, 1]);
});

/** Counts of `data` on the grid (exponent, first) by the definition: bin floor(x / 2^e) − first. */
function countsOnGrid(data: Float32Array, exponent: number, first: number, bins: number, abs: boolean) {
  const counts = new Array<number>(bins).fill(0);
  for (const v of data) counts[Math.floor((abs ? Math.abs(v) : v) / 2 ** exponent) - first]++;
  return counts;
}

for (const kind of ['signed', 'abs'] as const) {
  test(`${kind}: streaming with widening equals one pass over all values, bin for bin`, () => {
    // Scale grows batch by batch (and the sign of the drift flips), so the range widens many times.
    const raw = laplace(7, 60_000);
    const data = raw.map((v, i) => (v + (i % 3 === 0 ? 0.3 : 0)) * 1.08 ** Math.floor(i / 1200));
    const streamed = new Histogram(kind, 256);
    for (const b of batches(data, 50)) streamed.update(b);
    const whole = new Histogram(kind, 256);
    whole.update(data);
    assert.ok(streamed.width > 2 ** -10, 'the test data must widen the range');
    assert.equal(streamed.exponent, whole.exponent);
    assert.equal(streamed.first, whole.first);
    assert.deepEqual([...streamed.counts], [...whole.counts]);
    assert.deepEqual(
      [...streamed.counts],
      countsOnGrid(data, streamed.exponent, streamed.first, 256, kind === 'abs'),
    );
    let min = Infinity;
    let max = -Infinity;
    for (const v of data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(streamed.moments.count, data.length);
    assert.equal(
      streamed.counts.reduce((a, b) => a + b, 0),
      data.length,
    );
    assert.equal(streamed.moments.min, min);
    assert.equal(streamed.moments.max, max);
  });
}

test('the occupied span covers more than half of the bins', () => {
  for (const seed of [1, 2, 3]) {
    const h = new Histogram('signed', 2048);
    h.update(gaussian(seed, 10_000, 0.01 * 7 ** seed));
    const { min, max } = h.moments;
    const occupied = Math.floor(max / h.width) - Math.floor(min / h.width) + 1;
    assert.ok(occupied > 1024 && occupied <= 2048, `${occupied} bins occupied`);
  }
});

test('memory does not grow with the number of batches', () => {
  // Every field, with numbers blanked (their digits vary) and typed arrays replaced by their length.
  const footprint = (h: Histogram) =>
    JSON.stringify(h, (_, v) =>
      v instanceof Float64Array ? `f64[${v.length}]` : typeof v === 'number' ? 0 : v,
    );
  const h = new Histogram('signed');
  h.update(gaussian(1, 1000));
  const after1 = footprint(h);
  for (let i = 0; i < 200; i++) h.update(gaussian(i + 2, 1000, 1 + i / 10));
  assert.equal(h.counts.length, 2048);
  assert.equal(footprint(h), after1);
});

test('NaN and Infinity are skipped and counted', () => {
  const h = new Histogram('signed', 8);
  h.update(f32([1, NaN, 2, Infinity, -Infinity, 3]));
  assert.equal(
    h.counts.reduce((a, b) => a + b, 0),
    3,
  );
  assert.deepEqual([h.moments.nanCount, h.moments.infCount, h.moments.max], [1, 2, 3]);
  h.update(f32([NaN]));
  assert.equal(h.moments.count, 3);
  // A later batch mixing NaN, Inf, values inside the range and one that widens it.
  h.update(f32([NaN, 2.5, -Infinity, 40, 1.5]));
  const once = new Histogram('signed', 8);
  once.update(f32([1, 2, 3, 2.5, 40, 1.5]));
  assert.deepEqual([h.exponent, h.first, ...h.counts], [once.exponent, once.first, ...once.counts]);
  assert.deepEqual([h.moments.count, h.moments.nanCount, h.moments.infCount], [6, 3, 3]);
});

test('constant and all-zero data fall into one bin of a finite width', () => {
  for (const value of [0, 5, -1e-20, 3e38]) {
    const h = new Histogram('signed');
    h.update(new Float32Array(100).fill(value));
    assert.ok(Number.isFinite(h.width) && h.width > 0);
    assert.equal(h.counts.filter((c) => c > 0).length, 1);
    assert.equal(
      h.counts.reduce((a, b) => a + b, 0),
      100,
    );
  }
  // Zeros first, then real data: the zeros stay in the bin starting at 0.
  const h = new Histogram('abs', 16);
  h.update(new Float32Array(10));
  h.update(f32([1, 2]));
  assert.equal(h.counts[0], 10);
  assert.equal(
    h.counts.reduce((a, b) => a + b, 0),
    12,
  );
});

test('bin counts must be an integer of at least 2', () => {
  for (const bins of [1, 0, 2.5, NaN]) {
    assert.throws(() => new Histogram('signed', bins), isQuantkitError);
  }
});

test('fitExponent is the smallest exponent that fits; floorLog2 is exact at powers of two', () => {
  // At w = 2^-11, 1 falls in bin 2048, one past the last; 0.999 in bin 2045.
  assert.equal(fitExponent(0, 1, 2048), -10);
  assert.equal(fitExponent(0, 0.999, 2048), -11);
  // At w = 2^-10, [-1, 1] spans bins -1024..1024 (2049 bins), [-1, 0.999] bins -1024..1022.
  assert.equal(fitExponent(-1, 1, 2048), -9);
  assert.equal(fitExponent(-1, 0.999, 2048), -10);
  for (let e = -140; e < 128; e += 7) {
    assert.equal(floorLog2(2 ** e), e);
    assert.equal(floorLog2(2 ** e * 1.999), e);
    assert.equal(floorLog2(2 ** e * 0.9999999), e - 1);
  }
});
