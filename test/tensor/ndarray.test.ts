import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatAxis0, elementCount, ndarray, sliceAxis0 } from '../../src/tensor/ndarray.js';
import { toArray } from '../helpers/arrays.js';

test('elementCount', () => {
  assert.equal(elementCount([]), 1);
  assert.equal(elementCount([2, 3, 4]), 24);
  assert.equal(elementCount([5, 0, 2]), 0);
});

test('ndarray checks length and array type', () => {
  const a = ndarray('float32', [2, 2], new Float32Array(4));
  assert.deepEqual(a.shape, [2, 2]);
  assert.throws(
    () => ndarray('float32', [2, 3], new Float32Array(4)),
    /shape \[2,3\] has 6 elements, data has 4/,
  );
  assert.throws(
    () => ndarray('int8', [4], new Uint8Array(4)),
    /int8 data must be a Int8Array, got Uint8Array/,
  );
  assert.throws(() => ndarray('float32', [-1], new Float32Array(0)), /invalid dimension -1/);
});

test('sliceAxis0 returns a view of whole rows', () => {
  const a = ndarray('int16', [4, 2], Int16Array.of(0, 1, 10, 11, 20, 21, 30, 31));
  const s = sliceAxis0(a, 1, 3);
  assert.deepEqual(s.shape, [2, 2]);
  assert.deepEqual(toArray(s.data), [10, 11, 20, 21]);
  assert.equal(s.data.buffer, a.data.buffer, 'shares memory');
  s.data[0] = 99;
  assert.equal(a.data[2], 99);
  assert.deepEqual(sliceAxis0(a, 4, 4).shape, [0, 2]);
  assert.throws(() => sliceAxis0(a, 3, 5), /outside axis 0 of length 4/);
});

test('concatAxis0 joins along the first axis', () => {
  const a = ndarray('float32', [1, 3], Float32Array.of(1, 2, 3));
  const b = ndarray('float32', [2, 3], Float32Array.of(4, 5, 6, 7, 8, 9));
  const c = concatAxis0([a, b]);
  assert.deepEqual(c.shape, [3, 3]);
  assert.deepEqual(toArray(c.data), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const big = concatAxis0([
    ndarray('int64', [1], BigInt64Array.of(-5n)),
    ndarray('int64', [2], BigInt64Array.of(2n ** 62n, 7n)),
  ]);
  assert.deepEqual(toArray(big.data), [-5n, 2n ** 62n, 7n]);
  assert.throws(
    () => concatAxis0([a, ndarray('float32', [1, 2], new Float32Array(2))]),
    /shape \[1,2\] with \[1,3\]/,
  );
  assert.throws(() => concatAxis0([a, ndarray('int8', [1, 3], new Int8Array(3))]), /int8 with float32/);
});
