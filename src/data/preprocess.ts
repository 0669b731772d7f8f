/**
 * Decoded pixels → one model-input sample, the way torchvision's Resize + CenterCrop + ToTensor +
 * Normalize do it: resize (bilinear with half-pixel centers, like PyTorch's interpolate with
 * align_corners=False and no antialiasing, so downscaling by more than 2× aliases where PIL would
 * blur), center crop (offsets rounded half to even, as Python's round), scale, normalize, lay out.
 * Resizing is computed in floating point only for the cropped pixels; the resized image is never
 * materialized. No `node:` imports: the browser app decodes with a canvas and reuses this.
 */
import { QuantkitError } from '../errors.js';
import type { ImageTransform } from './image-plan.js';
import type { Size } from './preprocess-spec.js';

/** 8-bit interleaved pixels: 1 = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA. Alpha is ignored. */
export interface PixelImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** Writes one sample (transform.channels × height × width values) into `out` from `offset`. */
export function preprocessImage(img: PixelImage, t: ImageTransform, out: Float32Array, offset = 0): void {
  const resized = resizedSize(img, t.resize);
  if (resized.height < t.height || resized.width < t.width) {
    throw new QuantkitError(
      `the image is ${img.height}x${img.width} (HxW)${t.resize ? `, ${resized.height}x${resized.width} resized` : ''},` +
        ` smaller than the ${t.height}x${t.width} crop; add or raise resize= in --preprocess`,
    );
  }
  const c = t.channels;
  const pixels = toChannels(img, c);
  const rows = taps(img.height, resized.height, roundHalfEven((resized.height - t.height) / 2), t.height);
  const cols = taps(img.width, resized.width, roundHalfEven((resized.width - t.width) / 2), t.width);
  const rowStride = img.width * c;
  const [pixelStride, channelStride] = t.layout === 'nchw' ? [1, t.height * t.width] : [c, 1];
  for (let y = 0; y < t.height; y++) {
    const r0 = rows.lo[y] * rowStride;
    const r1 = rows.hi[y] * rowStride;
    const wy = rows.weight[y];
    for (let x = 0; x < t.width; x++) {
      const c0 = cols.lo[x] * c;
      const c1 = cols.hi[x] * c;
      const wx = cols.weight[x];
      const at = offset + (y * t.width + x) * pixelStride;
      for (let ch = 0; ch < c; ch++) {
        const a = pixels[r0 + c0 + ch];
        const b = pixels[r0 + c1 + ch];
        const top = a + (b - a) * wx;
        const d = pixels[r1 + c0 + ch];
        const bottom = d + (pixels[r1 + c1 + ch] - d) * wx;
        const v = top + (bottom - top) * wy;
        out[at + ch * channelStride] = v * t.gain[ch] + t.bias[ch];
      }
    }
  }
}

/** torchvision's rule: the shorter side becomes N, the longer one N × long / short truncated. */
export function resizedSize(img: Size, resize: ImageTransform['resize']): Size {
  if (!resize) return { height: img.height, width: img.width };
  if (!('shorter' in resize)) return resize;
  const n = resize.shorter;
  return img.width <= img.height
    ? { height: Math.floor((n * img.height) / img.width), width: n }
    : { height: n, width: Math.floor((n * img.width) / img.height) };
}

interface Taps {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float64Array;
}

/** Source pixels and weights for `count` resized positions from `start`, along one axis. */
function taps(inSize: number, outSize: number, start: number, count: number): Taps {
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  const weight = new Float64Array(count);
  const ratio = inSize / outSize;
  for (let i = 0; i < count; i++) {
    const src = Math.max(0, (start + i + 0.5) * ratio - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    lo[i] = i0;
    hi[i] = Math.min(i0 + 1, inSize - 1);
    weight[i] = src - i0;
  }
  return { lo, hi, weight };
}

/** The image as `channels` interleaved 8-bit values per pixel (gray as PIL's convert('L') computes it). */
function toChannels(img: PixelImage, channels: 1 | 3): Uint8Array {
  const src = img.data;
  const n = img.width * img.height;
  const k = img.channels;
  if (k === channels) return src;
  const out = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    const s = p * k;
    if (k <= 2) {
      if (channels === 1) out[p] = src[s];
      else out.fill(src[s], p * 3, p * 3 + 3);
    } else if (channels === 1) {
      // ITU-R 601-2 luma in 16-bit fixed point; the weights sum to 65536, so gray stays exact.
      out[p] = (src[s] * 19595 + src[s + 1] * 38470 + src[s + 2] * 7471 + 0x8000) >> 16;
    } else {
      out[p * 3] = src[s];
      out[p * 3 + 1] = src[s + 1];
      out[p * 3 + 2] = src[s + 2];
    }
  }
  return out;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
