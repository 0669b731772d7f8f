import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isQuantkitError } from '../../src/errors.js';
import type { DType } from '../../src/tensor/dtype.js';
import { float16BitsToFloat32 } from '../../src/tensor/float16.js';
import { ndarray } from '../../src/tensor/ndarray.js';
import { parseNpy, serializeNpy } from '../../src/tensor/npy.js';
import { toArray } from '../helpers/arrays.js';

const FIXTURES = new URL('../fixtures/npy/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const expected: Record<string, { shape: number[]; values: unknown[] }> = JSON.parse(
  readFileSync(new URL('expected.json', FIXTURES), 'utf8'),
).files;

/** Builds a .npy file byte by byte: magic, version, little-endian header length, header, data. */
function handMade(major: number, header: string, data: number[]): Uint8Array {
  const text = new TextEncoder().encode(header);
  const lengthBytes =
    major === 1 ? [text.length & 0xff, text.length >> 8] : [text.length & 0xff, text.length >> 8, 0, 0];
  return Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0, ...lengthBytes, ...text, ...data]);
}

test('hand-made files of format versions 1.0, 2.0 and 3.0', () => {
  const header = "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }          \n";
  const data = [0x01, 0x00, 0xff, 0xff, 0x00, 0x80]; // 1, -1, -32768
  for (const major of [1, 2, 3]) {
    const arr = parseNpy(handMade(major, header, data));
    assert.equal(arr.dtype, 'int16');
    assert.deepEqual(arr.shape, [3]);
    assert.deepEqual(toArray(arr.data), [1, -1, -32768], `version ${major}`);
  }
  // Version 3.0 exists for UTF-8 headers; a non-ASCII character elsewhere in the dict must not confuse us.
  const utf8 = parseNpy(
    handMade(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'é': 1}\n", [7, 8]),
  );
  assert.deepEqual(toArray(utf8.data), [7, 8]);
  // Python 2 numpy wrote shapes with long-integer suffixes.
  const py2 = parseNpy(
    handMade(1, "{'descr': '>u2', 'fortran_order': True, 'shape': (2L, 1L), }\n", [1, 2, 3, 4]),
  );
  assert.deepEqual(py2.shape, [2, 1]);
  assert.deepEqual(toArray(py2.data), [0x0102, 0x0304]);
});

const FIXTURE_DTYPES: Record<string, DType> = {
  'float32_2x3.npy': 'float32',
  'float64_big_endian.npy': 'float64',
  'int32_big_endian_2x2.npy': 'int32',
  'uint16_big_endian.npy': 'uint16',
  'float32_fortran_2x3x4.npy': 'float32',
  'int16_fortran_3x2.npy': 'int16',
  'bool.npy': 'bool',
  'float16.npy': 'float16',
  'int64.npy': 'int64',
  'uint64.npy': 'uint64',
  'int8_empty_0x3.npy': 'int8',
  'uint8_scalar.npy': 'uint8',
  'float32_v2.npy': 'float32',
  'float32_v3.npy': 'float32',
};

function jsonValue(v: unknown): number | bigint {
  if (v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  if (typeof v === 'string') return BigInt(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v as number;
}

test('files written by numpy (big-endian, Fortran order, bool, float16, int64, v2/v3, 0-d, empty)', () => {
  for (const [name, dtype] of Object.entries(FIXTURE_DTYPES)) {
    const arr = parseNpy(fixture(name));
    const want = expected[name];
    assert.equal(arr.dtype, dtype, name);
    assert.deepEqual(arr.shape, want.shape, name);
    const got = Array.from(arr.data as ArrayLike<number | bigint>, (v) =>
      dtype === 'float16' ? float16BitsToFloat32(v as number) : v,
    );
    const values = want.values.map(jsonValue);
    if (dtype === 'int64' || dtype === 'uint64') {
      assert.deepEqual(
        got,
        values.map((v) => BigInt(v)),
        name,
      );
    } else {
      assert.equal(got.length, values.length, name);
      got.forEach((v, i) => assert.ok(Object.is(v, values[i]), `${name}[${i}]: ${v} vs ${values[i]}`));
    }
  }
});

test('our writer produces byte-identical files to numpy for C-order little-endian arrays', () => {
  for (const name of [
    'float32_2x3.npy',
    'bool.npy',
    'float16.npy',
    'int64.npy',
    'uint8_scalar.npy',
    'int8_empty_0x3.npy',
  ]) {
    const bytes = fixture(name);
    assert.deepEqual(serializeNpy(parseNpy(bytes)), bytes, name);
  }
});

test('aligned little-endian data is a view of the input; misaligned data is copied correctly', () => {
  const bytes = fixture('float32_2x3.npy');
  const view = parseNpy(bytes);
  assert.equal(view.data.buffer, bytes.buffer);
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const copy = parseNpy(shifted.subarray(1));
  assert.notEqual(copy.data.buffer, shifted.buffer);
  assert.deepEqual(toArray(copy.data), [1.5, -2, 3, 4, 5.25, -6]);
});

test('round trip of every supported dtype', () => {
  const arrays = [
    ndarray('float32', [2, 2], Float32Array.of(1, -0, Number.NaN, 3.5)),
    ndarray('float64', [3], Float64Array.of(1e-300, -2, Number.POSITIVE_INFINITY)),
    ndarray('float16', [2], Uint16Array.of(0x3c00, 0xfc00)),
    ndarray('int8', [2], Int8Array.of(-128, 127)),
    ndarray('uint8', [1, 1, 2], Uint8Array.of(0, 255)),
    ndarray('int16', [1], Int16Array.of(-300)),
    ndarray('uint16', [1], Uint16Array.of(65535)),
    ndarray('int32', [2], Int32Array.of(-(2 ** 31), 2 ** 31 - 1)),
    ndarray('uint32', [1], Uint32Array.of(2 ** 32 - 1)),
    ndarray('int64', [1], BigInt64Array.of(-(2n ** 63n))),
    ndarray('uint64', [1], BigUint64Array.of(2n ** 64n - 1n)),
    ndarray('bool', [3], Uint8Array.of(1, 0, 1)),
    ndarray('float32', [], Float32Array.of(42)),
  ];
  for (const arr of arrays) {
    const bytes = serializeNpy(arr);
    const headerEnd = bytes.indexOf(0x0a) + 1;
    assert.equal(headerEnd % 64, 0, 'data starts on a 64-byte boundary');
    const back = parseNpy(bytes);
    assert.equal(back.dtype, arr.dtype);
    assert.deepEqual(back.shape, arr.shape);
    assert.deepEqual(back.data, arr.data);
  }
});

test('unsupported dtypes and damaged files are QuantkitErrors that say what is wrong', () => {
  const fails = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => parseNpy(bytes),
      (e: unknown) => isQuantkitError(e) && pattern.test(e.message),
    );
  fails(fixture('unicode.npy'), /unsupported \.npy dtype '<U3'/);
  fails(fixture('complex64.npy'), /unsupported \.npy dtype '<c8'/);
  fails(fixture('structured.npy'), /structured \.npy dtype \[\["a","<f4"\],\["b","<i4"\]\]/);
  fails(
    fixture('float32_2x3.npy').subarray(0, 140),
    /truncated \.npy data: shape \[2,3\] of float32 needs 24 bytes, 12 present/,
  );
  fails(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), /not a \.npy file/);
  fails(handMade(4, "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }\n", []), /version 4\.0/);
  fails(
    handMade(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", []),
    /unsupported \.npy dtype '\|O'/,
  );
  fails(handMade(1, "{'descr': '<f4', 'shape': (1,), }\n", []), /lacks descr, fortran_order or shape/);
  fails(handMade(1, "{'descr': '<f4' 'fortran_order': False}\n", []), /expected ':'|expected ','/);
  assert.throws(
    () => serializeNpy(ndarray('bfloat16', [1], new Uint16Array(1))),
    /bfloat16 tensor cannot be stored/,
  );
});
