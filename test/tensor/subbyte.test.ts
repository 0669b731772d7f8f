import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQuantkitError } from '../../src/errors.js';
import { packedByteLength, packSubByte, unpackSubByte } from '../../src/tensor/subbyte.js';
import { runOneNode } from '../helpers/one-node-model.js';

test('int4/uint4: two per byte, first element in the low nibble, odd count padded with zero', () => {
  assert.deepEqual(Array.from(packSubByte('int4', Int8Array.of(1, -1, 7, -8, 0))), [0xf1, 0x87, 0x00]);
  assert.deepEqual(Array.from(packSubByte('uint4', Uint8Array.of(15, 0, 3))), [0x0f, 0x03]);
  assert.deepEqual(Array.from(unpackSubByte('int4', Uint8Array.of(0xf1, 0x87, 0x00), 5)), [1, -1, 7, -8, 0]);
  assert.deepEqual(Array.from(unpackSubByte('uint4', Uint8Array.of(0xf1, 0x87), 3)), [1, 15, 7]);
});

test('int2/uint2: four per byte from the lowest bits up', () => {
  // 1 | (-1 & 3) << 2 | (-2 & 3) << 4 | 0 << 6 = 0x2d; the fifth element starts a new byte.
  assert.deepEqual(Array.from(packSubByte('int2', Int8Array.of(1, -1, -2, 0, 1))), [0x2d, 0x01]);
  assert.deepEqual(Array.from(packSubByte('uint2', Uint8Array.of(3, 2, 1, 0))), [0x1b]);
  assert.deepEqual(Array.from(unpackSubByte('int2', Uint8Array.of(0x2d, 0x01), 5)), [1, -1, -2, 0, 1]);
  assert.deepEqual(Array.from(unpackSubByte('uint2', Uint8Array.of(0x1b), 4)), [3, 2, 1, 0]);
});

test('every value of every type round trips', () => {
  const ranges = { int4: [-8, 7], uint4: [0, 15], int2: [-2, 1], uint2: [0, 3] } as const;
  for (const [dtype, [lo, hi]] of Object.entries(ranges) as Array<
    [keyof typeof ranges, readonly [number, number]]
  >) {
    const values = Array.from({ length: 3 * (hi - lo + 1) + 1 }, (_, i) => lo + (i % (hi - lo + 1)));
    const typed = lo < 0 ? Int8Array.from(values) : Uint8Array.from(values);
    const packed = packSubByte(dtype, typed);
    assert.equal(packed.length, packedByteLength(dtype, values.length));
    assert.deepEqual(Array.from(unpackSubByte(dtype, packed, values.length)), values, dtype);
  }
});

test('errors name the sizes and the offending value', () => {
  assert.throws(
    () => unpackSubByte('int4', new Uint8Array(2), 5),
    (e: unknown) => isQuantkitError(e) && /5 int4 values need 3 packed bytes, got 2/.test(e.message),
  );
  assert.throws(
    () => unpackSubByte('uint2', new Uint8Array(1), 5),
    /5 uint2 values need 2 packed bytes, got 1/,
  );
  assert.throws(
    () => packSubByte('int4', Int8Array.of(0, 8)),
    /int4 value 8 at index 1 is outside \[-8, 7\]/,
  );
  assert.throws(() => packSubByte('uint4', Uint8Array.of(16)), /outside \[0, 15\]/);
  assert.throws(
    () => packSubByte('int4', new Int8Array(5), new Uint8Array(2)),
    /need 3 bytes, output holds 2/,
  );
});

test('ONNX Runtime reads our int4/uint4 packing back to the same values', async () => {
  for (const [dtype, values] of [
    ['int4', Int8Array.of(-8, -7, -1, 0, 1, 6, 7)],
    ['uint4', Uint8Array.of(0, 1, 7, 8, 14, 15, 3)],
  ] as const) {
    const shape = [values.length];
    const result = await runOneNode(
      {
        opType: 'DequantizeLinear',
        opset: 21,
        inputs: [
          { name: 'q', type: dtype, shape, raw: packSubByte(dtype, values) },
          { name: 's', type: 'float32', shape: [], raw: new Uint8Array(Float32Array.of(1).buffer) },
        ],
        outputs: [{ name: 'y', type: 'float32', shape }],
      },
      {},
    );
    assert.deepEqual(Array.from(result.y.data as Float32Array), Array.from(values), dtype);
  }
});
