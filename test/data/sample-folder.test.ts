import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelInput } from '../../src/data/model-inputs.js';
import { writeNpy, writeNpz } from '../../src/data/npy-file.js';
import { openSampleSource } from '../../src/data/sample-source.js';
import { type NdArray, ndarray } from '../../src/tensor/ndarray.js';
import { withTempDir } from '../helpers/fixtures.js';
import { collect, modelInputs, writePng } from './sample-helpers.js';

const mlp = modelInputs('mlp'); // input [batch, 64] float32
const controlFlow = modelInputs('control_flow'); // input [N, 8] float32, cond bool []

function samples(rows: number, rowShape: number[], first = 0): NdArray {
  const size = rowShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows * size);
  for (let i = 0; i < rows; i++) data.fill(first + i, i * size, (i + 1) * size);
  return ndarray('float32', [rows, ...rowShape], data);
}

const markers = (arr: NdArray) => {
  const size = arr.data.length / arr.shape[0];
  return Array.from({ length: arr.shape[0] }, (_, i) => Number(arr.data[i * size]));
};

test('a folder is read in name order, one class sub-folder level deep, batches straddling files', () =>
  withTempDir(async (dir) => {
    await writeNpy(join(dir, 'b.npy'), samples(2, [64], 10));
    await writeNpy(join(dir, 'a.npy'), samples(3, [64], 0));
    // One sample without a sample axis, under a name that is not the input's.
    await writeNpz(join(dir, 'c.NPZ'), { x: ndarray('float32', [64], new Float32Array(64).fill(20)) });
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    await writeNpy(join(dir, 'sub', 'd.npy'), samples(1, [64], 30));
    await writeNpy(join(dir, 'sub', 'deeper', 'e.npy'), samples(1, [64], 40));
    await writeNpy(join(dir, '.hidden.npy'), samples(1, [64], 50));
    writeFileSync(join(dir, 'notes.txt'), 'calibration set');
    const source = await openSampleSource(dir, mlp);
    assert.equal(source.sampleCount, 7);
    assert.equal(source.totalSamples, 7);
    assert.deepEqual(source.notes, [
      `skipped 2 entries of '${dir}' that are not .npy/.npz files or PNG/JPEG images (e.g. '${join(dir, 'notes.txt')}')`,
    ]);
    for (let pass = 0; pass < 2; pass++) {
      const out = await collect(source, 3);
      assert.deepEqual(
        out.map((b) => markers(b.input)),
        [[0, 1, 2], [10, 11, 20], [30]],
      );
      assert.deepEqual(out[1].input.shape, [3, 64]);
    }
    assert.deepEqual(
      (await collect(source, 2)).map((b) => markers(b.input)),
      [[0, 1], [2, 10], [11, 20], [30]],
    );
    const limited = await openSampleSource(dir, mlp, { limit: 4 });
    assert.deepEqual(
      (await collect(limited, 3)).map((b) => markers(b.input)),
      [[0, 1, 2], [10]],
    );
  }));

test('every file is checked when the folder is opened, and errors name it', () =>
  withTempDir(async (dir) => {
    await writeNpy(join(dir, 'a.npy'), samples(2, [64]));
    const bad = join(dir, 'b.npy');
    await writeNpy(bad, samples(2, [63]));
    await assert.rejects(openSampleSource(dir, mlp), {
      message:
        `calibration data '${bad}' for input 'input': the model expects float32 [?, 64], the file has float32 [2, 63]; ` +
        'give samples along the first axis ([N, 64]) or one sample per file ([64])',
    });
    writeFileSync(bad, 'not numpy');
    await assert.rejects(openSampleSource(dir, mlp), (e: Error) =>
      e.message.startsWith(`${bad}: not a .npy file`),
    );
    // A limit reached before the bad file means it is never read.
    const first = await openSampleSource(dir, mlp, { limit: 2 });
    assert.equal(first.sampleCount, 2);
    assert.equal(first.totalSamples, undefined);
    assert.equal((await collect(first, 8)).length, 1);
  }));

test('samples of one input must share a shape across files, and scalar inputs a value', () =>
  withTempDir(async (dir) => {
    const ids: ModelInput[] = [{ name: 'ids', dtype: 'int64', shape: ['N', 'seq'] }];
    const tokens = (rows: number, len: number) =>
      ndarray('int64', [rows, len], new BigInt64Array(rows * len));
    await writeNpy(join(dir, 'a.npy'), tokens(2, 16));
    await writeNpy(join(dir, 'b.npy'), tokens(2, 32));
    await assert.rejects(openSampleSource(dir, ids), {
      message:
        `calibration data '${join(dir, 'b.npy')}' for input 'ids': its samples are int64 [32], those of '${join(dir, 'a.npy')}' are int64 [16]; ` +
        'every sample of an input must have one shape and type (pad or crop them to one size)',
    });

    const cf = join(dir, 'cf');
    mkdirSync(cf);
    const on = ndarray('bool', [], Uint8Array.of(1));
    await writeNpz(join(cf, '1.npz'), { input: samples(3, [8], 0), cond: on });
    await writeNpz(join(cf, '2.npz'), { input: samples(1, [8], 3), cond: on });
    const source = await openSampleSource(cf, controlFlow);
    const out = await collect(source, 2);
    assert.deepEqual(
      out.map((b) => markers(b.input)),
      [
        [0, 1],
        [2, 3],
      ],
    );
    for (const b of out) assert.deepEqual(b.cond, on);
    await writeNpz(join(cf, '2.npz'), {
      input: samples(1, [8], 3),
      cond: ndarray('bool', [], Uint8Array.of(0)),
    });
    await assert.rejects(openSampleSource(cf, controlFlow), {
      message:
        `calibration data '${join(cf, '2.npz')}': scalar input 'cond' is 0, in '${join(cf, '1.npz')}' it is 1; ` +
        'a scalar input is fed to every batch, so it must have one value across the folder',
    });
  }));

test('a folder holds arrays or images, not both; a file changed between passes is caught', () =>
  withTempDir(async (dir) => {
    await writeNpy(join(dir, 'a.npy'), samples(2, [64]));
    await writeNpy(join(dir, 'b.npy'), samples(2, [64]));
    const source = await openSampleSource(dir, mlp);
    await writeNpy(join(dir, 'b.npy'), samples(3, [64]));
    await assert.rejects(collect(source, 2), {
      message:
        `calibration data '${join(dir, 'b.npy')}' now holds 3 samples, 2 when it was opened; ` +
        'do not change data files while they are read',
    });
    writePng(join(dir, 'c.png'), 2, 2, () => [0, 0, 0]);
    await assert.rejects(openSampleSource(dir, mlp), {
      message: `calibration data folder '${dir}' mixes arrays ('${join(dir, 'a.npy')}') and images ('${join(dir, 'c.png')}'); keep one kind per folder`,
    });
  }));
