import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQuantkitError } from '../../src/errors.js';
import { computeQParams, qparamsFromRange } from '../../src/quant/qparams.js';

const f = Math.fround;

test('asymmetric: the DOMAIN.md examples and range widening', () => {
  // [-1, 2] on uint8: S = 3/255, Z = round(0 + 1/S) = 85.
  assert.deepEqual(qparamsFromRange(-1, 2, { type: 'uint8' }), { scale: f(3 / 255), zeroPoint: 85 });
  // Same range on int8: Z = round(-128 + 85) = -43.
  assert.deepEqual(qparamsFromRange(-1, 2, { type: 'int8' }), { scale: f(3 / 255), zeroPoint: -43 });
  // [0.5, 2] widens to [0, 2] so that 0 is exact.
  assert.deepEqual(qparamsFromRange(0.5, 2, { type: 'uint8' }), { scale: f(2 / 255), zeroPoint: 0 });
  assert.deepEqual(qparamsFromRange(0.5, 2, { type: 'int8' }), { scale: f(2 / 255), zeroPoint: -128 });
  // [-2, -0.5] widens to [-2, 0]: zero sits at the top code.
  assert.deepEqual(qparamsFromRange(-2, -0.5, { type: 'uint8' }), { scale: f(2 / 255), zeroPoint: 255 });
  // uint4 [-1, 2]: S = 3/15 = 0.2, Z = round(1 / 0.2) = 5.
  assert.deepEqual(qparamsFromRange(-1, 2, { type: 'uint4' }), { scale: f(0.2), zeroPoint: 5 });
  // uint8 reduce-range uses [0, 127].
  assert.deepEqual(qparamsFromRange(-1, 2, { type: 'uint8', reduceRange: true }), {
    scale: f(3 / 127),
    zeroPoint: 42, // round(1 / (3/127)) = round(42.33)
  });
});

test('symmetric: absmax / (2^(b-1) - 1), zero point 0 or 2^(b-1)', () => {
  // int8 absmax 1.27 -> S = 0.01.
  assert.deepEqual(qparamsFromRange(-1.27, 0.5, { type: 'int8', symmetric: true }), {
    scale: f(0.01),
    zeroPoint: 0,
  });
  assert.deepEqual(qparamsFromRange(-0.2, 1.27, { type: 'uint8', symmetric: true }), {
    scale: f(0.01),
    zeroPoint: 128,
  });
  // Full range: S = 2 * absmax / (2^b - 1).
  assert.deepEqual(qparamsFromRange(-1.275, 1, { type: 'int8', symmetric: true, fullRange: true }), {
    scale: f(0.01),
    zeroPoint: 0,
  });
  assert.deepEqual(qparamsFromRange(-1, 0.7, { type: 'int4', symmetric: true }), {
    scale: f(1 / 7),
    zeroPoint: 0,
  });
  assert.deepEqual(qparamsFromRange(-6.3, 1, { type: 'int8', symmetric: true, reduceRange: true }), {
    scale: f(0.1),
    zeroPoint: 0,
  });
});

test('scales are float32 values', () => {
  const { scale } = qparamsFromRange(-1, 2, { type: 'uint8' });
  assert.equal(scale, Math.fround(scale));
  assert.notEqual(scale, 3 / 255);
});

test('constant and all-zero data get a finite positive scale that keeps 0 exact', () => {
  // A constant 5 widens to [0, 5].
  assert.deepEqual(qparamsFromRange(5, 5, { type: 'uint8' }), { scale: f(5 / 255), zeroPoint: 0 });
  // All zeros: scale 1; every value quantizes to Z, which dequantizes to exactly 0.
  assert.deepEqual(qparamsFromRange(0, 0, { type: 'uint8' }), { scale: 1, zeroPoint: 0 });
  assert.deepEqual(qparamsFromRange(0, 0, { type: 'int8' }), { scale: 1, zeroPoint: -128 });
  assert.deepEqual(qparamsFromRange(0, 0, { type: 'int8', symmetric: true }), { scale: 1, zeroPoint: 0 });
  // A range so small that S would be subnormal in float32 is treated the same way.
  assert.deepEqual(qparamsFromRange(0, 1e-40, { type: 'uint8' }), { scale: 1, zeroPoint: 0 });
});

test('NaN, Inf and inverted ranges are QuantkitErrors', () => {
  for (const [lo, hi] of [
    [Number.NaN, 1],
    [0, Number.POSITIVE_INFINITY],
    [Number.NEGATIVE_INFINITY, 0],
  ]) {
    assert.throws(
      () => qparamsFromRange(lo, hi, { type: 'int8' }),
      (e: unknown) => isQuantkitError(e) && /must be finite/.test(e.message),
    );
  }
  assert.throws(() => qparamsFromRange(2, 1, { type: 'int8' }), /min > max/);
  assert.throws(() => qparamsFromRange(-1e300, 1e300, { type: 'int4' }), /too wide for a float32 scale/);
});

test('per tensor from data', () => {
  const p = computeQParams(
    'w',
    Float32Array.of(-1, 0.5, 2, 1),
    [2, 2],
    { kind: 'tensor' },
    { type: 'uint8' },
  );
  assert.deepEqual(p.shape, []);
  assert.deepEqual(Array.from(p.scale), [f(3 / 255)]);
  assert.deepEqual(Array.from(p.zeroPoint), [85]);
});

test('per axis: one scale per index of the axis', () => {
  // Rows: [-1, 2, 0], [0.5, 0.25, -0.127]
  const data = Float32Array.of(-1, 2, 0, 0.5, 0.25, -0.127);
  const rows = computeQParams(
    'w',
    data,
    [2, 3],
    { kind: 'axis', axis: 0 },
    { type: 'int8', symmetric: true },
  );
  assert.deepEqual(rows.shape, [2]);
  assert.deepEqual(Array.from(rows.scale), [f(2 / 127), f(0.5 / 127)]);
  assert.deepEqual(Array.from(rows.zeroPoint), [0, 0]);
  // Columns (axis -1): absmax 1, 2, 0.127.
  const cols = computeQParams(
    'w',
    data,
    [2, 3],
    { kind: 'axis', axis: -1 },
    { type: 'int8', symmetric: true },
  );
  assert.deepEqual(cols.shape, [3]);
  assert.deepEqual(Array.from(cols.scale), [f(1 / 127), f(2 / 127), f(f(0.127) / 127)]);
});

test('per block: blocks of consecutive elements along the axis, the last one partial', () => {
  // Shape [2, 5], blocks of 2 along axis 1 -> scale shape [2, 3]: columns {0,1}, {2,3}, {4}.
  const data = Float32Array.of(1, -2, 3, 4, -5, 0.1, 0.2, -0.3, 0.4, 7);
  const p = computeQParams(
    'w',
    data,
    [2, 5],
    { kind: 'block', axis: 1, blockSize: 2 },
    {
      type: 'int4',
      symmetric: true,
    },
  );
  assert.deepEqual(p.shape, [2, 3]);
  assert.deepEqual(Array.from(p.scale), [f(2 / 7), f(4 / 7), f(5 / 7), f(f(0.2) / 7), f(f(0.4) / 7), 1]);
  // Along axis 0 of a [5, 2] tensor, blocks of 2 rows -> scale shape [3, 2].
  const t = Float32Array.of(1, -8, 2, 0, 3, 0, -4, 0, 0, 16);
  const q = computeQParams(
    'w',
    t,
    [5, 2],
    { kind: 'block', axis: 0, blockSize: 2 },
    { type: 'int8', symmetric: true },
  );
  assert.deepEqual(q.shape, [3, 2]);
  // The all-zero groups (column 1 of the middle block, column 0 of the last) get scale 1.
  assert.deepEqual(Array.from(q.scale), [f(2 / 127), f(8 / 127), f(4 / 127), 1, 1, f(16 / 127)]);
  assert.throws(
    () => computeQParams('w', t, [5, 2], { kind: 'block', axis: 0, blockSize: 0 }, { type: 'int8' }),
    /block size/,
  );
  assert.throws(
    () => computeQParams('w', t, [5, 2], { kind: 'axis', axis: 2 }, { type: 'int8' }),
    /axis 2 is out of range/,
  );
});

test('NaN or Inf in the data names the tensor and the first bad element', () => {
  const data = Float32Array.of(0, 1, 2, 3, Number.NaN, Number.POSITIVE_INFINITY);
  assert.throws(
    () => computeQParams('conv1.weight', data, [2, 3], { kind: 'tensor' }, { type: 'int8' }),
    (e: unknown) =>
      isQuantkitError(e) && /tensor 'conv1\.weight' has NaN at element 4 \(index \[1,1\]\)/.test(e.message),
  );
  assert.throws(
    () =>
      computeQParams(
        'b',
        Float32Array.of(Number.NEGATIVE_INFINITY),
        [1],
        { kind: 'tensor' },
        { type: 'int8' },
      ),
    /tensor 'b' has -Infinity at element 0/,
  );
});
