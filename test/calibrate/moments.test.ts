import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Moments, scanBatch } from '../../src/calibrate/moments.js';

function scan(values: number[]): Moments {
  const m = new Moments();
  scanBatch(Float32Array.from(values), m);
  return m;
}

test('a batch: count, min, max and the three sums', () => {
  const m = scan([0.5, -2, 3, 0, -0.25]);
  assert.equal(m.count, 5);
  assert.equal(m.min, -2);
  assert.equal(m.max, 3);
  assert.equal(m.sum, 1.25);
  assert.equal(m.sumSquares, 0.25 + 4 + 9 + 0 + 0.0625);
  assert.equal(m.sumAbs, 5.75);
  assert.equal(m.maxAbs, 3);
  assert.equal(m.nanCount + m.infCount, 0);
});

test('min and max order negative, zero and positive floats like numbers', () => {
  assert.deepEqual(
    [scan([-1e-30, -5, -3e30]).min, scan([-1e-30, -5, -3e30]).max],
    [Math.fround(-3e30), Math.fround(-1e-30)],
  );
  assert.deepEqual(
    [scan([1e-40, 2, 7e20]).min, scan([1e-40, 2, 7e20]).max],
    [Math.fround(1e-40), Math.fround(7e20)],
  );
  // A spike at the minimum (ReLU output) and signed zeros: -0 reports as 0.
  const relu = scan([0, 0, 0, 1.5, 0, -0, 0.25]);
  assert.ok(Object.is(relu.min, 0));
  assert.equal(relu.max, 1.5);
  assert.ok(Object.is(scan([-0, -0]).max, 0));
});

test('NaN and ±Infinity are counted and left out of everything else', () => {
  const m = scan([1, NaN, -Infinity, -4, Infinity, NaN, 2]);
  assert.equal(m.count, 3);
  assert.equal(m.nanCount, 2);
  assert.equal(m.infCount, 2);
  assert.equal(m.min, -4);
  assert.equal(m.max, 2);
  assert.equal(m.sum, -1);
  assert.equal(m.sumSquares, 21);
  assert.equal(m.sumAbs, 7);
  const allNaN = scan([NaN, NaN]);
  assert.equal(allNaN.count, 0);
  assert.equal(allNaN.min, Infinity);
  assert.equal(allNaN.max, -Infinity);
});

test('an empty batch changes nothing when added', () => {
  const total = scan([2, -1]);
  total.add(scan([]));
  assert.deepEqual([total.count, total.min, total.max, total.sum], [2, -1, 2, 1]);
  assert.equal(new Moments().maxAbs, 0);
});

test('add() merges batches into the aggregates of their concatenation', () => {
  const total = new Moments();
  total.add(scan([1, 2, NaN]));
  total.add(scan([-3, Infinity]));
  assert.deepEqual(
    [
      total.count,
      total.min,
      total.max,
      total.sum,
      total.sumSquares,
      total.sumAbs,
      total.nanCount,
      total.infCount,
    ],
    [3, -3, 2, 0, 14, 6, 1, 1],
  );
});

test('scanning a subarray reads only its elements', () => {
  const data = Float32Array.from([100, 1, -2, 100]);
  const m = new Moments();
  scanBatch(data.subarray(1, 3), m);
  assert.deepEqual([m.count, m.min, m.max], [2, -2, 1]);
});
