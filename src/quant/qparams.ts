/**
 * Scale and zero point from a clipping range (DOMAIN.md §1), the same rule ONNX Runtime's quantizer uses
 * (quant_utils.compute_scale_zp), per tensor, per axis or per block (§2).
 */

import { QuantkitError } from '../errors.js';
import { elementCount } from '../tensor/ndarray.js';
import { assertFinite } from './finite.js';
import { type Granularity, type ParamLayout, paramLayout } from './granularity.js';
import { roundHalfEven } from './rounding.js';
import {
  type QuantRange,
  type QuantRangeOptions,
  type QuantType,
  quantRange,
  symmetricZeroPoint,
} from './types.js';

export interface QParamOptions extends QuantRangeOptions {
  type: QuantType;
}

export interface ScaleZeroPoint {
  /** A float32 value: the model file stores scales as float32, and kernels compute with that value. */
  scale: number;
  zeroPoint: number;
}

/** Scales and zero points of a whole tensor, laid out as the QuantizeLinear inputs of that granularity. */
export interface QuantParams {
  type: QuantType;
  granularity: Granularity;
  /** Shape of `scale` and `zeroPoint`: [] per tensor, [D] per axis, the blocked shape per block. */
  shape: number[];
  scale: Float32Array;
  zeroPoint: Int32Array;
  /**
   * Codes are clamped to this range instead of the type's (offline weights under reduce-range whose
   * scales were searched rather than derived from the range: codes must stay 7-bit).
   */
  codeRange?: QuantRange;
}

// Smallest normal float32; ONNX Runtime's quantizer falls back to scale 1 below it, as do we.
const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * S = (β − α) / (qmax − qmin) after widening [rmin, rmax] to contain 0 (so 0 is exact), rounded to float32;
 * Z = round(qmin − α / S), computed in float32 as ONNX Runtime's quantizer does. Symmetric: α = −β =
 * −max(|rmin|, |rmax|) and Z the middle of the range (0 signed, 2^(b−1) unsigned).
 *
 * When the widened range is empty or so small that S would not be a normal float32 (an all-zero tensor),
 * S = 1: every value then quantizes to the zero point, which dequantizes to exactly 0, and that is the
 * closest representation of such data.
 */
export function qparamsFromRange(rmin: number, rmax: number, options: QParamOptions): ScaleZeroPoint {
  if (!Number.isFinite(rmin) || !Number.isFinite(rmax)) {
    throw new QuantkitError(`cannot quantize with the range [${rmin}, ${rmax}]: it must be finite`);
  }
  if (rmin > rmax) throw new QuantkitError(`range [${rmin}, ${rmax}] has min > max`);
  const range = quantRange(options.type, options);
  let lo = Math.min(rmin, 0);
  let hi = Math.max(rmax, 0);
  if (options.symmetric) {
    hi = Math.max(-lo, hi);
    lo = -hi;
  }
  let scale = Math.fround((hi - lo) / (range.qmax - range.qmin));
  if (scale === Number.POSITIVE_INFINITY) {
    throw new QuantkitError(`range [${rmin}, ${rmax}] is too wide for a float32 scale`);
  }
  if (scale < FLOAT32_MIN_NORMAL) scale = 1;
  if (options.symmetric) return { scale, zeroPoint: symmetricZeroPoint(range) };
  const z = roundHalfEven(Math.fround(range.qmin - Math.fround(Math.fround(lo) / scale)));
  return { scale, zeroPoint: Math.min(Math.max(z, range.qmin), range.qmax) };
}

/**
 * Parameters from the data's own min and max in each group the granularity defines (per-channel weights,
 * blocks of `blockSize` along an axis with a shorter last block). Throws a QuantkitError naming `name`
 * when the data holds NaN or Inf.
 */
export function computeQParams(
  name: string,
  data: Float32Array,
  shape: readonly number[],
  granularity: Granularity,
  options: QParamOptions,
): QuantParams {
  if (data.length !== elementCount(shape)) {
    throw new RangeError(
      `'${name}': shape [${shape}] has ${elementCount(shape)} elements, data has ${data.length}`,
    );
  }
  assertFinite(name, data, shape);
  const layout = paramLayout(shape, granularity);
  const { outer, dim, inner, blockSize, outerStride, dimStride, innerStride, paramCount } = layout;
  // Starting at 0 instead of ±Inf widens every range to contain 0, and leaves empty groups at [0, 0].
  const mins = new Float64Array(paramCount);
  const maxs = new Float64Array(paramCount);
  let idx = 0;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < dim; d++) {
      let p = o * outerStride + Math.floor(d / blockSize) * dimStride;
      for (let i = 0; i < inner; i++, idx++, p += innerStride) {
        const v = data[idx];
        if (v < mins[p]) mins[p] = v;
        if (v > maxs[p]) maxs[p] = v;
      }
    }
  }
  const scale = new Float32Array(paramCount);
  const zeroPoint = new Int32Array(paramCount);
  for (let p = 0; p < paramCount; p++) {
    const sz = qparamsFromRange(mins[p], maxs[p], options);
    scale[p] = sz.scale;
    zeroPoint[p] = sz.zeroPoint;
  }
  return { type: options.type, granularity, shape: layout.paramShape, scale, zeroPoint };
}

/** The layout of `params` over a tensor of `shape`, after checking that they belong together. */
export function layoutOf(shape: readonly number[], params: QuantParams): ParamLayout {
  const layout = paramLayout(shape, params.granularity);
  const expected = layout.paramCount;
  if (params.scale.length !== expected || params.zeroPoint.length !== expected) {
    throw new RangeError(
      `a tensor of shape [${shape}] needs ${expected} scales and zero points for this granularity, ` +
        `got ${params.scale.length} and ${params.zeroPoint.length}`,
    );
  }
  return layout;
}
