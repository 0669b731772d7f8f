import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ModelInput } from '../../src/data/model-inputs.js';
import { writeNpy } from '../../src/data/npy-file.js';
import { openSampleSource } from '../../src/data/sample-source.js';
import { type NdArray, ndarray } from '../../src/tensor/ndarray.js';
import { withTempDir } from '../helpers/fixtures.js';
import { writePng } from './sample-helpers.js';

const vector: ModelInput[] = [{ name: 'x', dtype: 'float32', shape: ['N', 4] }];
const fileName = (f: number) => `${String(f).padStart(2, '0')}.npy`;
const markers = (arr: NdArray) => Array.from({ length: arr.shape[0] }, (_, i) => Number(arr.data[i * 4]));

/** File f holds `per` samples filled with 100 f + s (+ 1000 once rewritten). */
async function writeFile(dir: string, f: number, per: number, shift = 0): Promise<void> {
  const data = new Float32Array(per * 4);
  for (let s = 0; s < per; s++) data.fill(shift + 100 * f + s, s * 4, s * 4 + 4);
  await writeNpy(join(dir, fileName(f)), ndarray('float32', [per, 4], data));
}

test('a folder is read one file at a time, each only when its first sample is needed', () =>
  withTempDir(async (dir) => {
    const files = 10;
    const per = 3;
    for (let f = 0; f < files; f++) await writeFile(dir, f, per);
    const source = await openSampleSource(dir, vector);
    // After the first batch, every file past the one its last sample came from is rewritten (+1000).
    // A source that had read ahead would still yield their old values.
    for (const batchSize of [2, 4, 1]) {
      let rewrittenFrom = files;
      const seen: number[] = [];
      for await (const batch of source.batches(batchSize)) {
        seen.push(...markers(batch.x));
        const lastFile = Math.floor((seen.length - 1) / per);
        for (let f = lastFile + 1; f < rewrittenFrom; f++) await writeFile(dir, f, per, 1000);
        rewrittenFrom = Math.min(rewrittenFrom, lastFile + 1);
      }
      const firstBatchFiles = Math.floor((batchSize - 1) / per) + 1;
      const expected = Array.from({ length: files * per }, (_, i) => {
        const f = Math.floor(i / per);
        return 100 * f + (i % per) + (f < firstBatchFiles ? 0 : 1000);
      });
      assert.deepEqual(seen, expected, `batch size ${batchSize}`);
      for (let f = 0; f < files; f++) await writeFile(dir, f, per);
    }
  }));

test('images are decoded one at a time, when their batch is built', () =>
  withTempDir(async (dir) => {
    const images = 6;
    const write = (i: number, v: number) => writePng(join(dir, `${i}.png`), 2, 2, () => [v, v, v]);
    for (let i = 0; i < images; i++) write(i, i);
    const source = await openSampleSource(dir, [{ name: 'img', dtype: 'float32', shape: ['N', 1, 2, 2] }], {
      preprocess: 'scale=255',
    });
    const seen: number[] = [];
    for await (const batch of source.batches(2)) {
      for (let s = 0; s < batch.img.shape[0]; s++) seen.push(batch.img.data[s * 4] as number);
      for (let i = seen.length; i < images; i++) write(i, 100 + i);
    }
    // Only the first batch's images were decoded before the first rewrite.
    assert.deepEqual(seen, [0, 1, 102, 103, 104, 105]);
  }));

test('a file is let go once its samples are used: batches never keep earlier files alive', () =>
  withTempDir(async (dir) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const files = 8;
    const per = 4;
    const width = 1024; // files above 4 KiB get their own buffer, not a slice of Node's shared pool
    for (let f = 0; f < files; f++) {
      const data = new Float32Array(per * width);
      for (let s = 0; s < per; s++) data.fill(100 * f + s, s * width, (s + 1) * width);
      await writeNpy(join(dir, fileName(f)), ndarray('float32', [per, width], data));
    }
    const source = await openSampleSource(dir, [{ name: 'x', dtype: 'float32', shape: ['N', width] }]);
    // Batch size 3 over files of 4: batches starting at 0, 9, 12, 21, 24 and 30 lie within a file.
    for (const [batchSize, expectedViews] of [
      [1, files * per],
      [3, 6],
    ]) {
      // Batches within one file are views of the buffer it was read into: watch those buffers.
      const watched: Array<{ file: number; buffer: WeakRef<ArrayBufferLike> }> = [];
      let views = 0;
      for await (const batch of source.batches(batchSize)) {
        const file = Math.floor(Number(batch.x.data[0]) / 100);
        if (batch.x.data.byteLength !== batch.x.data.buffer.byteLength) {
          watched.push({ file, buffer: new WeakRef(batch.x.data.buffer) });
          views++;
        }
        await settle(gc);
        const alive = watched.filter((w) => w.file < file && w.buffer.deref() !== undefined);
        assert.deepEqual(
          alive.map((w) => w.file),
          [],
          `batch size ${batchSize}: files still held while reading file ${file}`,
        );
      }
      assert.equal(views, expectedViews, `batch size ${batchSize}`);
    }
  }));

/** WeakRefs hold their target until the current job ends; let it end, then collect. */
async function settle(gc: () => void): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}
