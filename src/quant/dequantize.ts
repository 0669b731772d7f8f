/**
 * r' = S · (q − Z), bit-for-bit as ONNX Runtime's DequantizeLinear (CPU, float output) computes it:
 * float(q − Z) · S in float32.
 */

import { checkOutput } from '../tensor/check-output.js';
import { elementCount } from '../tensor/ndarray.js';
import { layoutOf, type QuantParams } from './qparams.js';
import type { QuantizedArray } from './quantize.js';

export function dequantize(
  q: QuantizedArray,
  shape: readonly number[],
  params: QuantParams,
  out = new Float32Array(q.length),
): Float32Array {
  if (q.length !== elementCount(shape)) {
    throw new RangeError(`shape [${shape}] has ${elementCount(shape)} elements, data has ${q.length}`);
  }
  checkOutput(out, q.length);
  const { outer, dim, inner, blockSize, outerStride, dimStride, innerStride } = layoutOf(shape, params);
  const { scale, zeroPoint } = params;
  let idx = 0;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < dim; d++) {
      let p = o * outerStride + Math.floor(d / blockSize) * dimStride;
      for (let i = 0; i < inner; i++, idx++, p += innerStride) {
        // (q − Z) has at most 17 bits and S 24, so the double product is exact and the store into the
        // Float32Array rounds it once: the float32 product.
        out[idx] = (q[idx] - zeroPoint[p]) * scale[p];
      }
    }
  }
  return out;
}
