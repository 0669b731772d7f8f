import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planImages } from '../../src/data/image-plan.js';
import type { ModelInput } from '../../src/data/model-inputs.js';
import { parsePreprocessSpec } from '../../src/data/preprocess-spec.js';
import type { DType } from '../../src/tensor/dtype.js';
import type { Dim } from '../../src/onnx/value-info.js';

const input = (shape: Dim[] | undefined, dtype: DType = 'float32'): ModelInput => ({
  name: 'img',
  dtype,
  shape,
});
const plan = (spec: string, shape: Dim[] | undefined, dtype?: DType) =>
  planImages(parsePreprocessSpec(spec), spec, input(shape, dtype));

test('layout, channels and size come from the model input', () => {
  const nchw = plan('resize=256,crop=224', ['N', 3, 224, 224]);
  assert.equal(nchw.transform.layout, 'nchw');
  assert.equal(nchw.transform.channels, 3);
  assert.deepEqual(nchw.sampleShape, [3, 224, 224]);
  const nhwc = plan('resize=256,crop=224', ['N', 224, 224, 3]);
  assert.equal(nhwc.transform.layout, 'nhwc');
  assert.deepEqual(nhwc.sampleShape, [224, 224, 3]);
  // No crop: the model's fixed size is the output size.
  const gray = plan('scale=1', ['batch', 1, 28, 28]);
  assert.deepEqual([gray.transform.channels, gray.transform.height, gray.transform.width], [1, 28, 28]);
  // Symbolic height and width take the crop.
  assert.deepEqual(plan('crop=32x48', ['N', 3, 'h', 'w']).sampleShape, [3, 32, 48]);
  // An explicit layout settles an ambiguous shape.
  assert.deepEqual(plan('layout=nhwc', ['N', 3, 3, 1]).sampleShape, [3, 3, 1]);
  // gain and bias fold scale, mean and std: value = pixel × gain + bias.
  const norm = plan('mean=0.5,std=0.25:0.5:1,scale=2', ['N', 3, 8, 8]).transform;
  assert.deepEqual(Array.from(norm.gain), [2 / 255 / 0.25, 2 / 255 / 0.5, 2 / 255]);
  assert.deepEqual(Array.from(norm.bias), [-2, -1, -0.5]);
});

test('conflicts between spec and model are reported before any image is read', () => {
  const cases: Array<[string, Dim[] | undefined, DType, string]> = [
    [
      'crop=200',
      ['N', 3, 224, 224],
      'float32',
      "float32 [?, 3, 224, 224]): crop=200x200 does not fit the model's image size (use crop=224x224)",
    ],
    [
      'crop=100x224',
      ['N', 3, 224, 'w'],
      'float32',
      "float32 [?, 3, 224, ?]): crop=100x224 does not fit the model's image size (use crop=224x224)",
    ],
    [
      'scale=1',
      ['N', 3, 'h', 'w'],
      'float32',
      'float32 [?, 3, ?, ?]): the model does not fix the image size; add crop=N or crop=HxW',
    ],
    [
      'crop=3',
      ['N', 3, 3, 3],
      'float32',
      'float32 [?, 3, 3, 3]): cannot tell whether it is NCHW or NHWC; add layout=nchw or layout=nhwc',
    ],
    [
      'layout=nchw',
      ['N', 4, 8, 8],
      'float32',
      'float32 [?, 4, 8, 8]): a nchw input with 4 channels cannot take images (1 = grayscale, 3 = RGB)',
    ],
    [
      'layout=nchw,crop=8',
      ['N', 'c', 8, 8],
      'float32',
      'float32 [?, ?, 8, 8]): the model does not fix the channel count; images need 1 (grayscale) or 3 (RGB)',
    ],
    [
      'resize=200,crop=224',
      ['N', 3, 224, 224],
      'float32',
      'float32 [?, 3, 224, 224]): resize=200 is smaller than the 224x224 crop; resize to at least that',
    ],
    [
      'mean=0.1:0.2',
      ['N', 3, 8, 8],
      'float32',
      'float32 [?, 3, 8, 8]): mean has 2 values, the input takes 3-channel images; give 1 or 3',
    ],
    [
      'crop=8',
      ['N', 3, 8, 8],
      'int64',
      'int64 [?, 3, 8, 8]): images become float32 tensors, the model takes int64; convert the data to .npy yourself',
    ],
    [
      'crop=8',
      ['N', 64],
      'float32',
      'float32 [?, 64]): images feed 4-D inputs (N, C, H, W or N, H, W, C); give this input .npy/.npz data instead',
    ],
    [
      'crop=8',
      undefined,
      'float32',
      'float32 [...]): images feed 4-D inputs (N, C, H, W or N, H, W, C); give this input .npy/.npz data instead',
    ],
  ];
  for (const [spec, shape, dtype, why] of cases) {
    assert.throws(() => plan(spec, shape, dtype), {
      name: 'QuantkitError',
      message: `--preprocess '${spec}' for input 'img' (${why}`,
    });
  }
});
