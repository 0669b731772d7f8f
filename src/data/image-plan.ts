/**
 * Fits a `--preprocess` spec to the model input that images feed: channel count (1 → grayscale,
 * 3 → RGB) and layout come from the input's shape, the output size from the crop (or the input's
 * fixed height and width), and every conflict between spec and model is reported before any image is
 * decoded.
 */
import { QuantkitError } from '../errors.js';
import type { Dim } from '../onnx/value-info.js';
import { formatDims, type ModelInput } from './model-inputs.js';
import type { Layout, PreprocessSpec, Size } from './preprocess-spec.js';

export interface ImageTransform {
  resize: PreprocessSpec['resize'];
  /** Output size (after the center crop). */
  height: number;
  width: number;
  channels: 1 | 3;
  layout: Layout;
  /** Per channel: value = pixel × gain + bias, which is (pixel / 255 × scale − mean) / std. */
  gain: Float64Array;
  bias: Float64Array;
}

export interface ImagePlan {
  transform: ImageTransform;
  /** One image's shape as the model takes it: [C, H, W] or [H, W, C]. */
  sampleShape: number[];
}

export function planImages(spec: PreprocessSpec, specText: string, input: ModelInput): ImagePlan {
  const about = `input '${input.name}' (${input.dtype ?? 'any type'} ${formatDims(input.shape)})`;
  const fail = (why: string) => new QuantkitError(`--preprocess '${specText}' for ${about}: ${why}`);
  if (input.dtype !== undefined && input.dtype !== 'float32') {
    throw fail(
      `images become float32 tensors, the model takes ${input.dtype}; convert the data to .npy yourself`,
    );
  }
  const shape = input.shape;
  if (shape?.length !== 4) {
    throw fail('images feed 4-D inputs (N, C, H, W or N, H, W, C); give this input .npy/.npz data instead');
  }
  const layout = spec.layout ?? inferLayout(shape, fail);
  const [c, h, w] = layout === 'nchw' ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
  if (c !== 1 && c !== 3) {
    throw fail(
      typeof c === 'number'
        ? `a ${layout} input with ${c} channels cannot take images (1 = grayscale, 3 = RGB)`
        : `the model does not fix the channel count; images need 1 (grayscale) or 3 (RGB)`,
    );
  }
  const out = outputSize(spec.crop, h, w, fail);
  checkResizeCoversCrop(spec.resize, out, fail);
  const mean = perChannel(spec.mean, 0, c, 'mean', fail);
  const std = perChannel(spec.std, 1, c, 'std', fail);
  const scale = spec.scale ?? 1;
  const gain = new Float64Array(c);
  const bias = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    gain[i] = scale / 255 / std[i];
    bias[i] = -mean[i] / std[i];
  }
  return {
    transform: { resize: spec.resize, ...out, channels: c, layout, gain, bias },
    sampleShape: layout === 'nchw' ? [c, out.height, out.width] : [out.height, out.width, c],
  };
}

/** [N, 3, H, W] is NCHW and [N, H, W, 3] NHWC; a shape with a 1 or 3 in both places is ambiguous. */
function inferLayout(shape: readonly Dim[], fail: (why: string) => Error): Layout {
  const channelLike = (d: Dim) => d === 1 || d === 3;
  if (channelLike(shape[1]) && !channelLike(shape[3])) return 'nchw';
  if (channelLike(shape[3]) && !channelLike(shape[1])) return 'nhwc';
  throw fail('cannot tell whether it is NCHW or NHWC; add layout=nchw or layout=nhwc');
}

function outputSize(crop: Size | undefined, h: Dim, w: Dim, fail: (why: string) => Error): Size {
  const fixedH = typeof h === 'number' ? h : undefined;
  const fixedW = typeof w === 'number' ? w : undefined;
  if (!crop) {
    if (fixedH === undefined || fixedW === undefined) {
      throw fail('the model does not fix the image size; add crop=N or crop=HxW');
    }
    return { height: fixedH, width: fixedW };
  }
  if ((fixedH !== undefined && crop.height !== fixedH) || (fixedW !== undefined && crop.width !== fixedW)) {
    const want = `${fixedH ?? crop.height}x${fixedW ?? crop.width}`;
    throw fail(`crop=${crop.height}x${crop.width} does not fit the model's image size (use crop=${want})`);
  }
  return crop;
}

function checkResizeCoversCrop(
  resize: PreprocessSpec['resize'],
  out: Size,
  fail: (why: string) => Error,
): void {
  if (!resize) return;
  const [rh, rw] = 'shorter' in resize ? [resize.shorter, resize.shorter] : [resize.height, resize.width];
  if (rh < out.height || rw < out.width) {
    const r = 'shorter' in resize ? `${resize.shorter}` : `${rh}x${rw}`;
    throw fail(`resize=${r} is smaller than the ${out.height}x${out.width} crop; resize to at least that`);
  }
}

function perChannel(
  values: number[] | undefined,
  fallback: number,
  channels: number,
  key: string,
  fail: (why: string) => Error,
): number[] {
  if (!values) return new Array<number>(channels).fill(fallback);
  if (values.length === 1) return new Array<number>(channels).fill(values[0]);
  if (values.length !== channels) {
    throw fail(
      `${key} has ${values.length} values, the input takes ${channels}-channel images; give 1 or ${channels}`,
    );
  }
  return values;
}
