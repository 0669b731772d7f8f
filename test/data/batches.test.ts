import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batches, recordBatches } from '../../src/data/batches.js';
import { ndarray } from '../../src/tensor/ndarray.js';
import { toArray } from '../helpers/arrays.js';

const rows = (n: number) =>
  ndarray(
    'float32',
    [n, 2],
    Float32Array.from({ length: 2 * n }, (_, i) => i),
  );

test('batches along axis 0 are views, the last one partial', () => {
  const arr = rows(5);
  const out = [...batches(arr, 2)];
  assert.deepEqual(
    out.map((b) => b.shape),
    [
      [2, 2],
      [2, 2],
      [1, 2],
    ],
  );
  assert.deepEqual(toArray(out[2].data), [8, 9]);
  for (const b of out) assert.equal(b.data.buffer, arr.data.buffer, 'no copy');
  assert.equal([...batches(arr, 5)].length, 1);
  assert.equal([...batches(arr, 100)].length, 1);
  assert.equal([...batches(rows(0), 3)].length, 0);
});

test('record batches slice every input alike', () => {
  const inputs = { a: rows(3), b: ndarray('int8', [3], Int8Array.of(1, 2, 3)) };
  const out = [...recordBatches(inputs, 2)];
  assert.equal(out.length, 2);
  assert.deepEqual(toArray(out[1].a.data), [4, 5]);
  assert.deepEqual(toArray(out[1].b.data), [3]);
  assert.equal(out[0].b.data.buffer, inputs.b.data.buffer);
});

test('bad arguments fail at the call, not at the first iteration', () => {
  assert.throws(() => batches(rows(2), 0), /batch size must be a positive integer, got 0/);
  assert.throws(() => batches(ndarray('float32', [], Float32Array.of(1)), 1), /scalar/);
  assert.throws(() => recordBatches({ a: rows(3), b: rows(2) }, 1), /input 'b' has 2 samples but 'a' has 3/);
  assert.throws(() => recordBatches({}, 1), /no inputs/);
});
