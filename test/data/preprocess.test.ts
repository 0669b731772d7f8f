import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planImages } from '../../src/data/image-plan.js';
import type { ModelInput } from '../../src/data/model-inputs.js';
import { type PixelImage, preprocessImage, resizedSize } from '../../src/data/preprocess.js';
import { parsePreprocessSpec } from '../../src/data/preprocess-spec.js';
import type { Dim } from '../../src/onnx/value-info.js';

const input = (shape: Dim[]): ModelInput => ({ name: 'x', dtype: 'float32', shape });

function run(img: PixelImage, spec: string, shape: Dim[]): number[] {
  const { transform, sampleShape } = planImages(parsePreprocessSpec(spec), spec, input(shape));
  const out = new Float32Array(sampleShape.reduce((a, b) => a * b, 1));
  preprocessImage(img, transform, out);
  return Array.from(out);
}

function assertClose(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `[${i}]: ${v} vs ${expected[i]}`));
}

// 4×4 gray ramp 0..15, row-major.
const ramp: PixelImage = {
  width: 4,
  height: 4,
  channels: 1,
  data: Uint8Array.from({ length: 16 }, (_, i) => i),
};

test('halving a 4x4 image averages 2x2 blocks; then scale, mean and std apply', () => {
  const blocks = [2.5, 4.5, 10.5, 12.5]; // (0+1+4+5)/4, (2+3+6+7)/4, (8+9+12+13)/4, (10+11+14+15)/4
  assertClose(
    run(ramp, 'resize=2', ['N', 1, 2, 2]),
    blocks.map((v) => v / 255),
  );
  assertClose(
    run(ramp, 'resize=2,mean=0.5,std=0.25', ['N', 1, 2, 2]),
    blocks.map((v) => (v / 255 - 0.5) / 0.25),
  );
  assertClose(run(ramp, 'resize=2,scale=255', ['N', 1, 2, 2]), blocks);
});

test('upscaling interpolates with half-pixel centers and clamps at the edges (as PyTorch bilinear)', () => {
  const row: PixelImage = { width: 2, height: 1, channels: 1, data: Uint8Array.of(0, 100) };
  // Output x maps to source (x + 0.5) / 2 - 0.5: -0.25 → 0, 0.25, 0.75, 1.25 → 1.
  assertClose(run(row, 'resize=1x4,scale=255', ['N', 1, 1, 4]), [0, 25, 75, 100]);
});

test('center crop takes the middle, rounding an odd margin half to even like torchvision', () => {
  const wide = (w: number): PixelImage => ({
    width: w,
    height: 1,
    channels: 1,
    data: Uint8Array.from({ length: w }, (_, x) => 10 * x),
  });
  // (5 - 2) / 2 = 1.5 → 2; (7 - 2) / 2 = 2.5 → 2 (Math.round would say 3).
  assertClose(run(wide(5), 'crop=1x2,scale=255', ['N', 1, 1, 2]), [20, 30]);
  assertClose(run(wide(7), 'crop=1x2,scale=255', ['N', 1, 1, 2]), [20, 30]);
  assertClose(run(wide(6), 'crop=1x2,scale=255', ['N', 1, 1, 2]), [20, 30]);
});

test('RGB in NCHW and NHWC, alpha dropped, per-channel mean and std', () => {
  // 2 rows × 4 columns; pixel (x, y) = (x, 10y, 100) with alpha 7.
  const data = new Uint8Array(2 * 4 * 4);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 4; x++) data.set([x, 10 * y, 100, 7], (y * 4 + x) * 4);
  }
  const img: PixelImage = { width: 4, height: 2, channels: 4, data };
  // resize=2 keeps the 2×4 image as is; crop=2 keeps columns 1 and 2.
  const spec = 'resize=2,crop=2,scale=255,mean=0:5:0,std=1:1:2';
  const r = [1, 2, 1, 2];
  const g = [0 - 5, 0 - 5, 10 - 5, 10 - 5];
  const b = [50, 50, 50, 50];
  assertClose(run(img, spec, ['N', 3, 2, 2]), [...r, ...g, ...b]);
  const nhwc = [0, 1, 2, 3].flatMap((i) => [r[i], g[i], b[i]]);
  assertClose(run(img, spec, ['N', 2, 2, 3]), nhwc);
});

test('color to grayscale uses the ITU-R 601-2 luma of PIL, gray to RGB repeats the value', () => {
  const rgb: PixelImage = {
    width: 3,
    height: 1,
    channels: 3,
    data: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255),
  };
  // (255 × 19595 + 32768) >> 16 = 76, (255 × 38470 + 32768) >> 16 = 150, (255 × 7471 + 32768) >> 16 = 29.
  assertClose(run(rgb, 'scale=255,layout=nchw', ['N', 1, 1, 3]), [76, 150, 29]);
  const gray: PixelImage = { width: 1, height: 1, channels: 2, data: Uint8Array.of(9, 0) };
  assertClose(run(gray, 'scale=255,layout=nchw', ['N', 3, 1, 1]), [9, 9, 9]);
});

test('the shorter side is resized and the longer one scaled and truncated', () => {
  assert.deepEqual(resizedSize({ height: 300, width: 200 }, { shorter: 224 }), { height: 336, width: 224 });
  assert.deepEqual(resizedSize({ height: 200, width: 333 }, { shorter: 224 }), { height: 224, width: 372 });
  assert.deepEqual(resizedSize({ height: 5, width: 7 }, { height: 2, width: 3 }), { height: 2, width: 3 });
  assert.deepEqual(resizedSize({ height: 5, width: 7 }, undefined), { height: 5, width: 7 });
});

test('an image smaller than the crop is refused', () => {
  assert.throws(() => run(ramp, 'crop=5', ['N', 1, 5, 5]), {
    message: 'the image is 4x4 (HxW), smaller than the 5x5 crop; add or raise resize= in --preprocess',
  });
});
