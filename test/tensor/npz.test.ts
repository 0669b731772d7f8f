import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { isQuantkitError } from '../../src/errors.js';
import { ndarray } from '../../src/tensor/ndarray.js';
import { serializeNpy } from '../../src/tensor/npy.js';
import { parseNpz, serializeNpz } from '../../src/tensor/npz.js';
import { toArray } from '../helpers/arrays.js';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/npy/${name}`, import.meta.url)));

test('reads numpy savez (stored) and savez_compressed (deflated) archives', () => {
  for (const name of ['stored.npz', 'compressed.npz']) {
    const arrays = parseNpz(fixture(name));
    assert.deepEqual(Object.keys(arrays).sort(), ['a', 'b'], name);
    assert.equal(arrays.a.dtype, 'float32');
    assert.deepEqual(arrays.a.shape, [2, 3]);
    assert.deepEqual(toArray(arrays.a.data), [0, 1, 2, 3, 4, 5]);
    assert.equal(arrays.b.dtype, 'int64');
    assert.deepEqual(arrays.b.shape, [2, 2]);
    assert.deepEqual(toArray(arrays.b.data), [1n, -1n, 2n, -2n]);
  }
});

test('round trip, stored and compressed, deterministic bytes', () => {
  const arrays = {
    x: ndarray('float32', [2, 2], Float32Array.of(1, 2, 3, 4)),
    'nested/y': ndarray('uint8', [3], Uint8Array.of(7, 8, 9)),
  };
  for (const compress of [false, true]) {
    const bytes = serializeNpz(arrays, { compress });
    assert.deepEqual(serializeNpz(arrays, { compress }), bytes, 'same input, same bytes');
    const back = parseNpz(bytes);
    assert.deepEqual(Object.keys(back).sort(), ['nested/y', 'x']);
    assert.deepEqual(back.x, arrays.x);
    assert.deepEqual(back['nested/y'], arrays['nested/y']);
  }
  const big = { z: ndarray('float32', [4096], new Float32Array(4096)) };
  assert.ok(
    serializeNpz(big, { compress: true }).length < serializeNpz(big).length / 10,
    'compression compresses',
  );
});

test('errors name the bad entry', () => {
  const withText = zipSync({
    'a.npy': serializeNpy(ndarray('int8', [1], Int8Array.of(1))),
    'notes.txt': Uint8Array.of(65),
  });
  assert.throws(
    () => parseNpz(withText),
    (e: unknown) => isQuantkitError(e) && /entry 'notes.txt' is not a \.npy file/.test(e.message),
  );
  const broken = zipSync({ 'w.npy': Uint8Array.of(1, 2, 3) });
  assert.throws(() => parseNpz(broken), /\.npz entry 'w\.npy': not a \.npy file/);
  assert.throws(() => parseNpz(Uint8Array.of(1, 2, 3)), /not a readable \.npz/);
});
