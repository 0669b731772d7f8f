import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readNpy, readNpz, writeNpy, writeNpz } from '../../src/data/npy-file.js';
import { isQuantkitError } from '../../src/errors.js';
import { ndarray } from '../../src/tensor/ndarray.js';
import { toArray } from '../helpers/arrays.js';

const dir = mkdtempSync(join(tmpdir(), 'quantkit-npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writeNpy / readNpy round trip, leaving no temporary file behind', async () => {
  const path = join(dir, 'a.npy');
  const arr = ndarray('float32', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6));
  await writeNpy(path, arr);
  assert.deepEqual(await readNpy(path), arr);
  // Overwriting replaces the file.
  const other = ndarray('int16', [1], Int16Array.of(-7));
  await writeNpy(path, other);
  assert.deepEqual(await readNpy(path), other);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('writeNpy writes the same bytes as numpy', async () => {
  const path = join(dir, 'same.npy');
  await writeNpy(path, ndarray('float32', [2, 3], Float32Array.of(1.5, -2, 3, 4, 5.25, -6)));
  const numpyBytes = readFileSync(new URL('../fixtures/npy/float32_2x3.npy', import.meta.url));
  assert.deepEqual(readFileSync(path), numpyBytes);
});

test('writeNpz / readNpz round trip', async () => {
  const path = join(dir, 'b.npz');
  const arrays = {
    x: ndarray('uint8', [2], Uint8Array.of(1, 2)),
    y: ndarray('float64', [1], Float64Array.of(0.5)),
  };
  await writeNpz(path, arrays, { compress: true });
  assert.deepEqual(await readNpz(path), arrays);
  const numpy = await readNpz(new URL('../fixtures/npy/compressed.npz', import.meta.url).pathname);
  assert.deepEqual(toArray(numpy.a.data), [0, 1, 2, 3, 4, 5]);
});

test('errors name the file', async () => {
  const missing = join(dir, 'missing.npy');
  await assert.rejects(readNpy(missing), (e: unknown) => {
    return isQuantkitError(e) && e.message === `cannot read ${missing}: no such file or directory`;
  });
  const bad = join(dir, 'bad.npy');
  writeFileSync(bad, 'hello world');
  await assert.rejects(
    readNpy(bad),
    (e: unknown) => isQuantkitError(e) && e.message.startsWith(`${bad}: not a .npy file`),
  );
  const noDir = join(dir, 'no', 'such', 'dir', 'c.npy');
  await assert.rejects(
    writeNpy(noDir, ndarray('int8', [1], Int8Array.of(1))),
    (e: unknown) => isQuantkitError(e) && e.message.startsWith(`cannot write ${noDir}`),
  );
});
