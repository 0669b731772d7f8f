import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ModelInput, requiredInputs } from '../../src/data/model-inputs.js';
import { writeNpy, writeNpz } from '../../src/data/npy-file.js';
import { openSampleSource } from '../../src/data/sample-source.js';
import { loadModel } from '../../src/io/model-file.js';
import { Runner } from '../../src/runtime/session.js';
import { type NdArray, ndarray } from '../../src/tensor/ndarray.js';
import { toArray } from '../helpers/arrays.js';
import { MODELS, modelPath, withTempDir } from '../helpers/fixtures.js';
import { collect, modelInputs } from './sample-helpers.js';

const cnn = modelInputs('cnn_bn'); // input [batch, 1, 28, 28] float32
const mlp = modelInputs('mlp'); // input [batch, 64] float32
const transformer = modelInputs('transformer'); // input_ids [batch, 16] int64
const controlFlow = modelInputs('control_flow'); // input [N, 8] float32, cond bool []

/** `rows` samples of `rowShape`; sample i is filled with `first + i`. */
function samples(rows: number, rowShape: number[], first = 0): NdArray {
  const size = rowShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows * size);
  for (let i = 0; i < rows; i++) data.fill(first + i, i * size, (i + 1) * size);
  return ndarray('float32', [rows, ...rowShape], data);
}

/** The value each sample of a batch was filled with. */
const markers = (arr: NdArray) => {
  const size = arr.data.length / arr.shape[0];
  return Array.from({ length: arr.shape[0] }, (_, i) => Number(arr.data[i * size]));
};

test('a .npy holds samples along its first axis; batches are views, the last partial, passes repeat', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'x.npy');
    await writeNpy(path, samples(5, [1, 28, 28]));
    const source = await openSampleSource(path, cnn);
    assert.equal(source.path, path);
    assert.deepEqual(source.inputs, [
      { name: 'input', dtype: 'float32', sampleShape: [1, 28, 28], batched: true },
    ]);
    assert.equal(source.sampleCount, 5);
    assert.equal(source.totalSamples, 5);
    assert.equal(source.fixedBatchSize, undefined);
    assert.deepEqual(source.notes, []);
    for (let pass = 0; pass < 2; pass++) {
      const out = await collect(source, 2);
      assert.deepEqual(
        out.map((b) => b.input.shape),
        [
          [2, 1, 28, 28],
          [2, 1, 28, 28],
          [1, 1, 28, 28],
        ],
      );
      assert.deepEqual(
        out.map((b) => markers(b.input)),
        [[0, 1], [2, 3], [4]],
      );
      assert.equal(out[0].input.data.buffer, out[2].input.data.buffer, 'views of one file');
    }
    assert.deepEqual(
      (await collect(source, 100)).map((b) => markers(b.input)),
      [[0, 1, 2, 3, 4]],
    );
  }));

test('an array one rank below the model input is one sample', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'one.npy');
    await writeNpy(path, samples(1, [28, 28], 7)); // [1, 28, 28]: one image, no sample axis
    const source = await openSampleSource(path, cnn);
    assert.equal(source.sampleCount, 1);
    const [batch] = await collect(source, 4);
    assert.deepEqual(batch.input.shape, [1, 1, 28, 28]);
    assert.equal(batch.input.data[0], 7);
  }));

test('.npz arrays match inputs by name, or a lone array the lone input whatever its name', () =>
  withTempDir(async (dir) => {
    const lone = join(dir, 'lone.npz');
    await writeNpz(lone, { arr_0: samples(3, [64]) });
    const mlpSource = await openSampleSource(lone, mlp);
    assert.deepEqual(
      (await collect(mlpSource, 2)).map((b) => Object.keys(b)),
      [['input'], ['input']],
    );

    const ids = join(dir, 'ids.npz');
    const tokens = ndarray(
      'int64',
      [3, 16],
      BigInt64Array.from({ length: 48 }, (_, i) => BigInt(i)),
    );
    await writeNpz(ids, { input_ids: tokens });
    const [batch] = await collect(await openSampleSource(ids, transformer), 8);
    assert.equal(batch.input_ids.dtype, 'int64');
    assert.deepEqual(toArray(batch.input_ids.data), toArray(tokens.data));

    // control_flow: 'cond' is a scalar input, given whole with every batch.
    const two = join(dir, 'two.npz');
    const cond = ndarray('bool', [], Uint8Array.of(1));
    await writeNpz(two, { cond, input: samples(5, [8]) });
    const source = await openSampleSource(two, controlFlow);
    assert.deepEqual(source.inputs, [
      { name: 'input', dtype: 'float32', sampleShape: [8], batched: true },
      { name: 'cond', dtype: 'bool', sampleShape: [], batched: false },
    ]);
    const out = await collect(source, 2);
    assert.deepEqual(
      out.map((b) => markers(b.input)),
      [[0, 1], [2, 3], [4]],
    );
    for (const b of out) assert.deepEqual(b.cond, cond);
  }));

test('arrays that do not match the model inputs are named', () =>
  withTempDir(async (dir) => {
    const npz = join(dir, 'bad.npz');
    await writeNpz(npz, { input: samples(2, [8]), foo: samples(2, [8]) });
    await assert.rejects(openSampleSource(npz, controlFlow), {
      message:
        `calibration data '${npz}' does not match the model's inputs ('input', 'cond'): no array for 'cond'; ` +
        "arrays the model has no input for: 'foo'; name each array after the input it feeds",
    });
    const npy = join(dir, 'x.npy');
    await writeNpy(npy, samples(2, [8]));
    await assert.rejects(openSampleSource(npy, controlFlow), {
      message:
        `calibration data '${npy}' holds one array, but the model has 2 inputs ('input', 'cond'); ` +
        'give a .npz with one array per input, named after it',
    });
    const ab: ModelInput[] = [
      { name: 'a', dtype: 'float32', shape: ['N', 2] },
      { name: 'b', dtype: 'float32', shape: ['N', 3] },
    ];
    const uneven = join(dir, 'uneven.npz');
    await writeNpz(uneven, { a: samples(4, [2]), b: samples(3, [3]) });
    await assert.rejects(openSampleSource(uneven, ab), {
      message: `calibration data '${uneven}': input 'b' has 3 samples, 'a' has 4; every array must hold the same number of samples`,
    });
  }));

test('element type, rank and fixed dimensions are checked once, naming file, input and both shapes', () =>
  withTempDir(async (dir) => {
    const u8 = join(dir, 'u8.npy');
    await writeNpy(u8, ndarray('uint8', [5, 1, 28, 28], new Uint8Array(5 * 784)));
    await assert.rejects(openSampleSource(u8, cnn), {
      name: 'QuantkitError',
      message:
        `calibration data '${u8}' for input 'input': the model expects float32 [?, 1, 28, 28], the file has uint8 [5, 1, 28, 28]; ` +
        "convert it to float32 the way the model's training data was (e.g. numpy: (x / 255).astype(np.float32) for 8-bit pixels)",
    });
    const i32 = join(dir, 'i32.npy');
    await writeNpy(i32, ndarray('int32', [3, 16], new Int32Array(48)));
    await assert.rejects(openSampleSource(i32, transformer, { purpose: 'evaluation' }), {
      message:
        `evaluation data '${i32}' for input 'input_ids': the model expects int64 [?, 16], the file has int32 [3, 16]; ` +
        'convert it to int64 (numpy: x.astype(np.int64))',
    });
    const flat = join(dir, 'x.npy');
    await writeNpy(flat, samples(100, [28, 28]));
    await assert.rejects(openSampleSource(flat, cnn), {
      message:
        `calibration data '${flat}' for input 'input': the model expects float32 [?, 1, 28, 28], the file has float32 [100, 28, 28]; ` +
        'give samples along the first axis ([N, 1, 28, 28]) or one sample per file ([1, 28, 28])',
    });
    const wide = join(dir, 'wide.npy');
    await writeNpy(wide, samples(2, [65]));
    await assert.rejects(openSampleSource(wide, mlp), {
      message:
        `calibration data '${wide}' for input 'input': the model expects float32 [?, 64], the file has float32 [2, 65]; ` +
        'give samples along the first axis ([N, 64]) or one sample per file ([64])',
    });
    const scalarCond = join(dir, 'cond.npz');
    await writeNpz(scalarCond, { input: samples(2, [8]), cond: ndarray('bool', [2], Uint8Array.of(1, 0)) });
    await assert.rejects(openSampleSource(scalarCond, controlFlow), {
      message:
        `calibration data '${scalarCond}' for input 'cond': the model expects bool [], the file has bool [2]; ` +
        'give one value (shape []), which every batch receives',
    });
  }));

test('empty data, missing paths, unknown files and bad options are refused', () =>
  withTempDir(async (dir) => {
    const empty = join(dir, 'empty.npy');
    await writeNpy(empty, samples(0, [64]));
    await assert.rejects(openSampleSource(empty, mlp), {
      message: `calibration data '${empty}' holds no samples`,
    });
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    await assert.rejects(openSampleSource(folder, mlp), {
      message: `calibration data folder '${folder}' holds no .npy/.npz files or PNG/JPEG images`,
    });
    writeFileSync(join(folder, 'a.webp'), 'RIFF');
    await assert.rejects(openSampleSource(folder, mlp), {
      message: `calibration data folder '${folder}' holds no .npy/.npz files or PNG/JPEG images; it has 1 other entries, e.g. '${join(folder, 'a.webp')}'`,
    });
    const missing = join(dir, 'missing.npy');
    await assert.rejects(openSampleSource(missing, mlp), {
      message: `cannot read calibration data '${missing}': no such file or directory`,
    });
    const csv = join(dir, 'x.csv');
    writeFileSync(csv, '1,2');
    await assert.rejects(openSampleSource(csv, mlp), {
      message: `calibration data '${csv}' is not a .npy or .npz file, a PNG/JPEG image, or a folder of them`,
    });
    const ok = join(dir, 'ok.npy');
    await writeNpy(ok, samples(2, [64]));
    await assert.rejects(openSampleSource(ok, mlp, { preprocess: 'crop=8' }), {
      message: `--preprocess applies to images, but calibration data '${ok}' holds arrays; preprocess them before saving`,
    });
    await assert.rejects(openSampleSource(ok, mlp, { limit: 0 }), {
      message: 'the number of samples to use must be a positive integer, got 0',
    });
    await assert.rejects(openSampleSource(ok, []), {
      message: 'the model has no inputs to feed calibration data to',
    });
    const source = await openSampleSource(ok, mlp);
    assert.throws(() => source.batches(0), { message: 'batch size must be a positive integer, got 0' });
  }));

test('a limit takes the first N samples; a larger one uses them all and says so', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'x.npy');
    await writeNpy(path, samples(5, [64]));
    const three = await openSampleSource(path, mlp, { limit: 3 });
    assert.equal(three.sampleCount, 3);
    assert.equal(three.totalSamples, 5);
    assert.deepEqual(
      (await collect(three, 2)).map((b) => markers(b.input)),
      [[0, 1], [2]],
    );
    const ten = await openSampleSource(path, mlp, { limit: 10 });
    assert.equal(ten.sampleCount, 5);
    assert.deepEqual(ten.notes, [`asked for 10 samples, calibration data '${path}' holds 5: using them all`]);
  }));

test('a fixed batch dimension forces the batch size and leaves out what does not fill a batch', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'x.npy');
    await writeNpy(path, samples(5, [3]));
    const fixed: ModelInput[] = [{ name: 'x', dtype: 'float32', shape: [2, 3] }];
    const source = await openSampleSource(path, fixed);
    assert.equal(source.fixedBatchSize, 2);
    assert.equal(source.sampleCount, 4);
    assert.equal(source.totalSamples, 5);
    assert.deepEqual(source.notes, [
      "input 'x' has a fixed batch size of 2: every batch holds exactly 2 samples, whatever batch size is asked for",
      'the last 1 of 5 samples are left out: they do not fill a batch',
    ]);
    assert.deepEqual(
      (await collect(source, 3)).map((b) => markers(b.x)),
      [
        [0, 1],
        [2, 3],
      ],
    );

    const one = await openSampleSource(path, [{ name: 'x', dtype: 'float32', shape: [1, 3] }]);
    assert.equal(one.sampleCount, 5);
    assert.equal((await collect(one, 4)).length, 5);
    assert.deepEqual(one.notes, [
      "input 'x' has a fixed batch size of 1: every batch holds exactly 1 sample, whatever batch size is asked for",
    ]);

    const small = join(dir, 'small.npy');
    await writeNpy(small, samples(1, [3]));
    await assert.rejects(openSampleSource(small, fixed), {
      message: `calibration data '${small}' has 1 samples, fewer than the 2 that input 'x' takes at once`,
    });
    const clash: ModelInput[] = [
      { name: 'a', dtype: 'float32', shape: [1, 3] },
      { name: 'b', dtype: 'float32', shape: [4, 3] },
    ];
    const ab = join(dir, 'ab.npz');
    await writeNpz(ab, { a: samples(4, [3]), b: samples(4, [3]) });
    await assert.rejects(openSampleSource(ab, clash), {
      message: "the model fixes different batch sizes: input 'a' takes 1, 'b' takes 4",
    });
  }));

test("the fixtures' own input files batch into feeds ONNX Runtime runs", async () => {
  for (const name of ['cnn_bn', 'transformer', 'control_flow']) {
    const model = loadModel(modelPath(name));
    const runner = await Runner.create(model);
    try {
      const source = await openSampleSource(join(MODELS, `${name}.input.npz`), requiredInputs(model.graph));
      assert.equal(source.sampleCount, 3, name);
      let runs = 0;
      for await (const batch of source.batches(2)) {
        await runner.run(batch);
        runs++;
      }
      assert.equal(runs, 2, name);
    } finally {
      await runner.release();
      model.dispose();
    }
  }
});
