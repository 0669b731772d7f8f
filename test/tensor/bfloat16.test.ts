import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bfloat16ArrayToFloat32,
  bfloat16BitsToFloat32,
  float32ArrayToBfloat16,
  float32ToBfloat16Bits,
} from '../../src/tensor/bfloat16.js';

test('known float32 -> bfloat16 conversions', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3f80],
    [-2, 0xc000],
    [1 / 3, 0x3eab], // 0x3eaaaaab: the dropped half 0xaaab is above the midpoint
    [1 + 2 ** -8, 0x3f80], // exact midpoint between 0x3f80 and 0x3f81: even
    [1 + 3 * 2 ** -8, 0x3f82], // exact midpoint between 0x3f81 and 0x3f82: even
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just above the midpoint
    [3.3895313892515355e38, 0x7f7f], // largest bfloat16
    [3.4028234663852886e38, 0x7f80], // largest float32 rounds up to Inf
    [Number.POSITIVE_INFINITY, 0x7f80],
    [Number.NEGATIVE_INFINITY, 0xff80],
    [2 ** -133, 0x0001], // smallest bfloat16 subnormal
    [2 ** -134, 0x0000], // half of it: tie to even
  ];
  for (const [x, bits] of cases) {
    assert.equal(float32ToBfloat16Bits(x), bits, `${x} -> 0x${bits.toString(16)}`);
  }
  assert.ok(Number.isNaN(bfloat16BitsToFloat32(float32ToBfloat16Bits(Number.NaN))));
});

test('NaN whose payload lies only in the dropped bits stays NaN', () => {
  const bits = new Uint32Array([0x7f800001, 0xff800001]);
  const out = float32ArrayToBfloat16(new Float32Array(bits.buffer));
  assert.deepEqual(Array.from(out), [0x7fc0, 0xffc0]);
});

test('all 65536 bfloat16 patterns round trip exactly through float32', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = bfloat16ArrayToFloat32(all);
  const back = float32ArrayToBfloat16(f);
  const f32Bits = new Uint32Array(f.buffer);
  for (let b = 0; b < 65536; b++) {
    assert.equal(f32Bits[b], b * 65536, `bits of 0x${b.toString(16)}`);
    const isNaN = (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
    assert.equal(back[b], isNaN ? b | 0x40 : b, `0x${b.toString(16)}`);
  }
});
