import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelInput } from '../../src/data/model-inputs.js';
import { openSampleSource } from '../../src/data/sample-source.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { withTempDir } from '../helpers/fixtures.js';
import { collect, modelInputs, writeJpeg, writePng } from './sample-helpers.js';

const rgbInput = (shape: ModelInput['shape']): ModelInput[] => [{ name: 'image', dtype: 'float32', shape }];
const gray = (v: number) => (): [number, number, number] => [v, v, v];

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('a PNG is resized, cropped to the model size, scaled and normalized per channel (NCHW)', () =>
  withTempDir(async (dir) => {
    // 4×4 RGB; pixel i = 4y + x is (i, 2i, 255 − i).
    writePng(join(dir, 'a.png'), 4, 4, (x, y) => [4 * y + x, 2 * (4 * y + x), 255 - (4 * y + x)]);
    const source = await openSampleSource(dir, rgbInput(['N', 3, 2, 2]), {
      preprocess: 'resize=2,mean=0.5,std=0.5:0.25:1',
    });
    assert.deepEqual(source.inputs, [
      { name: 'image', dtype: 'float32', sampleShape: [3, 2, 2], batched: true },
    ]);
    assert.equal(source.sampleCount, 1);
    const [batch] = await collect(source, 4);
    assert.deepEqual(batch.image.shape, [1, 3, 2, 2]);
    // Halving averages 2×2 blocks: i = 2.5, 4.5, 10.5, 12.5.
    const blocks = [2.5, 4.5, 10.5, 12.5];
    assertClose(batch.image.data as Float32Array, [
      ...blocks.map((i) => (i / 255 - 0.5) / 0.5),
      ...blocks.map((i) => ((2 * i) / 255 - 0.5) / 0.25),
      ...blocks.map((i) => ((255 - i) / 255 - 0.5) / 1),
    ]);
  }));

test('a 1-channel model gets grayscale; alpha is ignored', () =>
  withTempDir(async (dir) => {
    writePng(join(dir, 'a.png'), 56, 56, () => [200, 100, 50], 0);
    const source = await openSampleSource(dir, modelInputs('cnn_bn'), { preprocess: 'resize=28' });
    const [batch] = await collect(source, 1);
    assert.deepEqual(batch.input.shape, [1, 1, 28, 28]);
    // (200 × 19595 + 100 × 38470 + 50 × 7471 + 32768) >> 16 = 124
    assertClose(batch.input.data as Float32Array, new Array(784).fill(124 / 255));
  }));

test('class sub-folders are walked in name order; JPEG and upper-case extensions are read; NHWC is inferred', () =>
  withTempDir(async (dir) => {
    mkdirSync(join(dir, 'cat'));
    mkdirSync(join(dir, 'dog'));
    writePng(join(dir, 'cat', 'b.png'), 8, 8, gray(20));
    writePng(join(dir, 'cat', 'a.png'), 8, 8, gray(10));
    writePng(join(dir, 'dog', 'a.PNG'), 8, 8, gray(30));
    writeJpeg(join(dir, 'z.jpg'), 8, 8, gray(40));
    writeFileSync(join(dir, 'labels.txt'), 'cat dog');
    const source = await openSampleSource(dir, rgbInput(['N', 4, 4, 3]), {
      preprocess: 'resize=4,scale=255',
    });
    assert.equal(source.sampleCount, 4);
    assert.equal(source.notes.length, 1);
    const out = await collect(source, 3);
    assert.deepEqual(
      out.map((b) => b.image.shape),
      [
        [3, 4, 4, 3],
        [1, 4, 4, 3],
      ],
    );
    const values = (b: NdArray) => Array.from(b.data as Float32Array);
    assertClose(values(out[0].image), [
      ...new Array(48).fill(10),
      ...new Array(48).fill(20),
      ...new Array(48).fill(30),
    ]);
    // JPEG is lossy: a flat gray block survives quality 100 within a level.
    assertClose(values(out[1].image), new Array(48).fill(40), 1);
  }));

test('images need --preprocess, one model input, and readable files of sufficient size', () =>
  withTempDir(async (dir) => {
    const img = join(dir, 'img.png');
    writePng(img, 4, 4, gray(0));
    await assert.rejects(openSampleSource(dir, rgbInput(['N', 3, 4, 4])), {
      message:
        `calibration data '${dir}' holds images; say how they become input 'image' with --preprocess, ` +
        "e.g. --preprocess 'resize=256,crop=224,mean=0.485:0.456:0.406,std=0.229:0.224:0.225' " +
        '(keys: resize, crop, mean, std, scale, layout)',
    });
    await assert.rejects(openSampleSource(dir, modelInputs('control_flow'), { preprocess: 'crop=4' }), {
      message:
        `calibration data '${dir}' holds images, which can feed a model with one input; this one has 2 ('input', 'cond'); ` +
        'give a .npz with one array per input instead',
    });
    await assert.rejects(openSampleSource(dir, rgbInput(['N', 3, 4, 4]), { preprocess: 'crop=4,size=4' }), {
      message:
        "invalid --preprocess 'crop=4,size=4': unknown key 'size' (known: resize, crop, mean, std, scale, layout)",
    });

    // The image is 4×4 and nothing resizes it: an 8×8 model input cannot be cut from it.
    const small = await openSampleSource(img, rgbInput(['N', 3, 8, 8]), { preprocess: 'scale=1' });
    await assert.rejects(collect(small, 1), {
      message: `calibration data image '${img}': the image is 4x4 (HxW), smaller than the 8x8 crop; add or raise resize= in --preprocess`,
    });

    const ok = await openSampleSource(img, rgbInput(['N', 3, 4, 4]), { preprocess: 'scale=1' });
    const bytes = readFileSync(img);
    writeFileSync(img, bytes.subarray(0, bytes.length - 20)); // cut into the image data and IEND
    await assert.rejects(collect(ok, 1), (e: Error) =>
      e.message.startsWith(`calibration data image '${img}': not a readable PNG image (`),
    );
    writeFileSync(img, 'GIF89a');
    await assert.rejects(collect(ok, 1), {
      message: `calibration data image '${img}': not a PNG or JPEG image (WebP, GIF, BMP and TIFF are not supported)`,
    });
    const jpg = join(dir, 'x.jpg');
    writeJpeg(jpg, 16, 16, (x, y) => [x * 16, y * 16, 0]);
    const jpeg = await openSampleSource(jpg, rgbInput(['N', 3, 16, 16]), { preprocess: 'scale=1' });
    const whole = readFileSync(jpg);
    writeFileSync(jpg, whole.subarray(0, whole.length >> 1));
    await assert.rejects(collect(jpeg, 1), (e: Error) =>
      e.message.startsWith(`calibration data image '${jpg}': not a readable JPEG image (`),
    );
  }));
