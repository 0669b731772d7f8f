import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dequantize } from '../../src/quant/dequantize.js';
import type { Granularity } from '../../src/quant/granularity.js';
import type { QuantParams } from '../../src/quant/qparams.js';
import { quantize } from '../../src/quant/quantize.js';
import type { QuantType } from '../../src/quant/types.js';
import { createRng } from '../../src/tensor/random.js';

function params(
  type: QuantType,
  scale: number[],
  zeroPoint: number[],
  granularity: Granularity = { kind: 'tensor' },
  shape: number[] = [],
): QuantParams {
  return { type, granularity, shape, scale: Float32Array.from(scale), zeroPoint: Int32Array.from(zeroPoint) };
}

const q = (type: QuantType, x: number[], p: QuantParams, shape = [x.length]) =>
  Array.from(quantize(Float32Array.from(x), shape, p));

test('uint8 with S = 3/255, Z = 85 (range [-1, 2])', () => {
  const p = params('uint8', [3 / 255], [85]);
  assert.deepEqual(q('uint8', [-1, 0, 2, 1, 10, -10, -0], p), [0, 85, 255, 170, 255, 0, 85]);
});

test('ties after division round half to even', () => {
  const p = params('int8', [1], [0]);
  assert.deepEqual(q('int8', [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5], p), [0, 2, 2, 0, -2, -2, 4]);
  // With a zero point the tie is decided before Z is added: 0.5 -> 0 (+ 3).
  assert.deepEqual(q('uint8', [0.5, 1.5], params('uint8', [1], [3])), [3, 5]);
  // S = 0.25: 0.375 / 0.25 = 1.5 exactly -> 2.
  assert.deepEqual(q('int8', [0.375, 0.625], params('int8', [0.25], [0])), [2, 2]);
});

test('values beyond the range saturate to the type limits', () => {
  assert.deepEqual(q('int8', [300, -300, 127.4, -128.6], params('int8', [1], [0])), [127, -128, 127, -128]);
  assert.deepEqual(q('int4', [9, -9, 7.5, -8.5], params('int4', [1], [0])), [7, -8, 7, -8]);
  assert.deepEqual(q('uint4', [-9, 100, 3], params('uint4', [1], [8])), [0, 15, 11]);
  assert.deepEqual(q('int16', [1e9, -1e9], params('int16', [0.5], [10])), [32767, -32768]);
  assert.deepEqual(q('uint16', [1e30, Number.NEGATIVE_INFINITY], params('uint16', [1], [0])), [65535, 0]);
  // Blocked along a leading axis, where ONNX Runtime 1.30 wrongly gives qmin for +Inf and |x / S| >= 2^31,
  // we saturate as the spec says.
  const blocked = params('int8', [1, 1], [0, 0], { kind: 'block', axis: 0, blockSize: 2 }, [1, 2]);
  assert.deepEqual(
    q('int8', [Number.POSITIVE_INFINITY, 3e9, 2e9, -3e9], blocked, [2, 2]),
    [127, 127, 127, -128],
  );
  // NaN is undefined by the spec; like ONNX Runtime we give qmin.
  assert.deepEqual(q('int8', [Number.NaN], params('int8', [1], [5])), [-128]);
});

test('the quotient is a float32 division, neither a reciprocal multiply nor a float64 division', () => {
  // S = 0.3f, x = 2.25: x / S = 7.4999995f (-> 7), but x * (1 / S) = 7.5f (-> 8).
  assert.deepEqual(q('int8', [2.25], params('int8', [Math.fround(0.3)], [0])), [7]);
  // S = 0.01f, x = 0.11499999f: the float32 quotient is exactly 11.5 (-> 12), the float64 one 11.4999997 (-> 11).
  const s = Math.fround(0.01);
  const x = Math.fround(11.5 * s);
  assert.ok(x / s < 11.5);
  assert.deepEqual(q('int8', [x], params('int8', [s], [0])), [12]);
});

test('per axis: each index of the axis has its own S and Z', () => {
  // Shape [2, 3], axis 1: columns use S = 1, 0.5, 2 and Z = 0, 1, -1.
  const p = params('int8', [1, 0.5, 2], [0, 1, -1], { kind: 'axis', axis: 1 }, [3]);
  assert.deepEqual(q('int8', [1, 1, 1, -3, 2, 9], p, [2, 3]), [1, 3, -1, -3, 5, 3]);
  const r = dequantize(Int8Array.of(1, 3, -1, -3, 5, 3), [2, 3], p);
  assert.deepEqual(Array.from(r), [1, 1, 0, -3, 2, 8]);
});

test('per block along the last axis, last block partial', () => {
  // Shape [2, 5], blocks of 2 along axis 1 -> params [2, 3].
  const p = params(
    'int4',
    [1, 2, 4, 0.5, 0.25, 8],
    [0, 0, 0, 1, 2, -1],
    { kind: 'block', axis: 1, blockSize: 2 },
    [2, 3],
  );
  const x = [1, 2, 3, 4, 5, 1, 1, 1, 1, 64];
  // row 0: /1 /1 | /2 /2 | /4 ; row 1: /0.5+1 /0.5+1 | /0.25+2 (clamped) x2 | /8-1
  assert.deepEqual(q('int4', x, p, [2, 5]), [1, 2, 2, 2, 1, 3, 3, 6, 6, 7]);
});

test('per block along a leading axis', () => {
  // Shape [3, 2], blocks of 2 along axis 0 -> params [2, 2]: rows {0, 1} and {2}.
  const p = params(
    'int8',
    [1, 10, 100, 1000],
    [0, 0, 0, 0],
    { kind: 'block', axis: 0, blockSize: 2 },
    [2, 2],
  );
  assert.deepEqual(q('int8', [5, 50, 6, 60, 500, 5000], p, [3, 2]), [5, 5, 6, 6, 5, 5]);
});

test('dequantize computes S * (q - Z) in float32', () => {
  const s = Math.fround(3 / 255);
  const r = dequantize(Uint8Array.of(0, 85, 255), [3], params('uint8', [s], [85]));
  assert.deepEqual(Array.from(r), [Math.fround(-85 * s), 0, Math.fround(170 * s)]);
  assert.ok(Object.is(r[1], 0), 'q = Z gives +0');
  const p = params('uint16', [2 ** -10], [32768]);
  assert.deepEqual(Array.from(dequantize(Uint16Array.of(0, 65535), [2], p)), [-32, 32767 / 1024]);
});

test('stochastic rounding stays within floor/ceil of x / S and is reproducible', () => {
  const x = Float32Array.from({ length: 1000 }, (_, i) => (i - 500) * 0.0117);
  const p = params('int8', [0.05], [0]);
  const a = quantize(x, [x.length], p, { rounding: { mode: 'stochastic', rng: createRng(3) } });
  const b = quantize(x, [x.length], p, { rounding: { mode: 'stochastic', rng: createRng(3) } });
  assert.deepEqual(a, b);
  let differsFromNearest = 0;
  const nearest = quantize(x, [x.length], p);
  for (let i = 0; i < x.length; i++) {
    const v = Math.fround(x[i] / Math.fround(0.05));
    assert.ok(a[i] === Math.floor(v) || a[i] === Math.ceil(v), `${x[i]}`);
    if (a[i] !== nearest[i]) differsFromNearest++;
  }
  assert.ok(differsFromNearest > 100, 'it is not round-to-nearest in disguise');
});

test('mismatched parameters and shapes are rejected', () => {
  const p = params('int8', [1, 1], [0, 0], { kind: 'axis', axis: 0 }, [2]);
  assert.throws(() => quantize(new Float32Array(6), [3, 2], p), /needs 3 scales and zero points/);
  assert.throws(() => quantize(new Float32Array(5), [3, 2], p), /shape \[3,2\] has 6 elements, data has 5/);
  assert.throws(() => dequantize(new Int8Array(4), [2, 2], p, new Float32Array(3)), /output holds 3/);
});
