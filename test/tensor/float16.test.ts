import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  float16ArrayToFloat32,
  float16BitsToFloat32,
  float32ArrayToFloat16,
  float32ToFloat16Bits,
} from '../../src/tensor/float16.js';

/** The value of a half pattern, from the IEEE 754 definition evaluated in float64. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

test('known float32 -> half conversions', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // largest half
    [65519.99, 0x7bff], // below the midpoint to 65536: stays finite
    [65520, 0x7c00], // the midpoint ties to even, which is Inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [2 ** -14, 0x0400], // 6.1035e-5, smallest normal
    [6.1035e-5, 0x0400],
    [2 ** -24, 0x0001], // 5.96e-8, smallest subnormal
    [5.96e-8, 0x0001],
    [2 ** -25, 0x0000], // half the smallest subnormal: tie to even (0)
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal units: tie to even (2)
    [2 ** -26, 0x0000],
    [1 / 3, 0x3555], // 0.333251953125
    [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 and 0x3c01: even
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: even
    [2049, 0x6800], // tie between 2048 and 2050
    [2051, 0x6802], // tie between 2050 and 2052
    [0.1, 0x2e66],
  ];
  for (const [x, bits] of cases) {
    assert.equal(float32ToFloat16Bits(x), bits, `${x} -> 0x${bits.toString(16)}`);
  }
  assert.equal(float32ToFloat16Bits(Number.NaN) & 0x7e00, 0x7e00, 'NaN stays a (quiet) NaN');
});

test('half -> float32 values', () => {
  assert.equal(float16BitsToFloat32(0x7bff), 65504);
  assert.equal(float16BitsToFloat32(0x0400), 2 ** -14);
  assert.equal(float16BitsToFloat32(0x0001), 2 ** -24);
  assert.equal(float16BitsToFloat32(0x3555), 0.333251953125);
  assert.equal(float16BitsToFloat32(0xfc00), Number.NEGATIVE_INFINITY);
  assert.ok(Object.is(float16BitsToFloat32(0x8000), -0));
  assert.ok(Number.isNaN(float16BitsToFloat32(0x7c01)));
});

test('all 65536 half patterns: exact value, and half -> f32 -> half round trip', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const asF32 = float16ArrayToFloat32(all);
  const back = float32ArrayToFloat16(asF32);
  for (let h = 0; h < 65536; h++) {
    const expected = halfValue(h);
    if (Number.isNaN(expected)) {
      assert.ok(Number.isNaN(asF32[h]), `0x${h.toString(16)} is NaN`);
      // Signalling NaNs come back quiet (0x0200 set), with sign and payload kept.
      assert.equal(back[h], h | 0x0200, `NaN 0x${h.toString(16)}`);
    } else {
      assert.ok(Object.is(asF32[h], expected), `0x${h.toString(16)} -> ${asF32[h]}, expected ${expected}`);
      assert.equal(back[h], h, `0x${h.toString(16)} round trip`);
    }
  }
});

test('rounding of every float32 between two halves lands on the nearer one', () => {
  // Sweep float32 bit patterns densely through the normal and subnormal half ranges and compare with a
  // nearest-value search over the half grid computed in float64.
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  for (let b = 0x33800000; b < 0x47800000; b += 0x1357) {
    bits[0] = b;
    const x = f[0];
    const h = float32ToFloat16Bits(x);
    if (h === 0x7c00) {
      assert.ok(x >= 65520, `${x} overflows`);
      continue;
    }
    const v = halfValue(h);
    const below = halfValue(h - 1);
    const above = h === 0x7bff ? 65536 : halfValue(h + 1);
    assert.ok(Math.abs(x - v) <= Math.abs(x - below) && Math.abs(x - v) <= Math.abs(x - above), `${x}`);
    if (Math.abs(x - v) === Math.abs(x - below) || Math.abs(x - v) === Math.abs(x - above)) {
      assert.equal(h & 1, 0, `tie at ${x} must go to even`);
    }
  }
});

test('array forms check the output length', () => {
  assert.throws(
    () => float32ArrayToFloat16(new Float32Array(3), new Uint16Array(2)),
    /output holds 2 elements, 3 needed/,
  );
});
