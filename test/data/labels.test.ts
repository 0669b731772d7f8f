import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLabels } from '../../src/data/labels.js';
import { writeNpy } from '../../src/data/npy-file.js';
import { ndarray } from '../../src/tensor/ndarray.js';
import { float32ToFloat16Bits } from '../../src/tensor/float16.js';
import { withTempDir } from '../helpers/fixtures.js';

test('class ids from integer, bool, whole-number float and [N, 1] arrays', () =>
  withTempDir(async (dir) => {
    const cases = [
      ndarray('int64', [3], BigInt64Array.of(2n, 0n, 9n)),
      ndarray('uint8', [3], Uint8Array.of(2, 0, 9)),
      ndarray('int32', [3, 1], Int32Array.of(2, 0, 9)),
      ndarray('float32', [3], Float32Array.of(2, 0, 9)),
      ndarray('float64', [3], Float64Array.of(2, 0, 9)),
      ndarray('float16', [3], Uint16Array.from([2, 0, 9], float32ToFloat16Bits)),
    ];
    for (const [i, arr] of cases.entries()) {
      const path = join(dir, `${i}.npy`);
      await writeNpy(path, arr);
      assert.deepEqual(await readLabels(path), Int32Array.of(2, 0, 9), arr.dtype);
    }
    const flags = join(dir, 'bool.npy');
    await writeNpy(flags, ndarray('bool', [2], Uint8Array.of(1, 0)));
    assert.deepEqual(await readLabels(flags), Int32Array.of(1, 0));
  }));

test('one-hot or score rows reduce by argmax, the first maximum winning a tie', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'y.npy');
    await writeNpy(path, ndarray('float32', [3, 3], Float32Array.of(0, 0, 1, 1, 0, 0, 0.2, 0.7, 0.7)));
    assert.deepEqual(await readLabels(path), Int32Array.of(2, 0, 1));
    await writeNpy(path, ndarray('uint8', [2, 2], Uint8Array.of(0, 1, 1, 0)));
    assert.deepEqual(await readLabels(path), Int32Array.of(1, 0));
  }));

test('labels are counted against the data they belong to', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'y.npy');
    await writeNpy(path, ndarray('int32', [3], Int32Array.of(1, 2, 3)));
    const data = { path: 'x.npy', sampleCount: 4, totalSamples: 4 };
    assert.deepEqual(
      await readLabels(path, { ...data, sampleCount: 3, totalSamples: 3 }),
      Int32Array.of(1, 2, 3),
    );
    await assert.rejects(readLabels(path, data), {
      message: `labels '${path}' hold 3 labels, the data 'x.npy' has 4 samples; give one label per sample, in the order of the data`,
    });
    // A limit kept the data from being counted: there must be at least one label per sample used.
    assert.equal((await readLabels(path, { path: 'x', sampleCount: 2, totalSamples: undefined })).length, 3);
    await assert.rejects(readLabels(path, { path: 'x', sampleCount: 5, totalSamples: undefined }), {
      message: `labels '${path}' hold 3 labels, the data 'x' has at least 5 samples; give one label per sample, in the order of the data`,
    });
  }));

test('labels that are not class ids are refused, naming the file', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'y.npy');
    await writeNpy(path, ndarray('float32', [3], Float32Array.of(1, 2.5, 3)));
    await assert.rejects(readLabels(path), {
      message: `labels '${path}': label 1 is 2.5; class ids must be whole numbers from 0 to 2^31 - 1`,
    });
    await writeNpy(path, ndarray('int8', [2], Int8Array.of(0, -1)));
    await assert.rejects(readLabels(path), {
      message: `labels '${path}': label 1 is -1; class ids must be whole numbers from 0 to 2^31 - 1`,
    });
    await writeNpy(path, ndarray('int32', [1, 2, 2], new Int32Array(4)));
    await assert.rejects(readLabels(path), {
      message: `labels '${path}' have shape [1, 2, 2]; give class ids [N] or one-hot rows [N, classes]`,
    });
    const missing = join(dir, 'missing.npy');
    await assert.rejects(readLabels(missing), {
      message: `cannot read ${missing}: no such file or directory`,
    });
  }));
