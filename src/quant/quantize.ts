/**
 * q = saturate(round(r / S) + Z), bit-for-bit as ONNX Runtime's QuantizeLinear (CPU) computes it:
 * r / S is an IEEE float32 division (not a multiplication by 1/S), the quotient is clamped in float to
 * [qmin − Z, qmax − Z] (qmin/qmax: every code of the type), rounded half to even, and Z added.
 */

import { checkOutput } from '../tensor/check-output.js';
import { elementArrayFor } from '../tensor/dtype.js';
import { elementCount } from '../tensor/ndarray.js';
import { layoutOf, type QuantParams } from './qparams.js';
import { NEAREST_EVEN, type Rounding, roundHalfEven, roundStochastic } from './rounding.js';
import { type QuantType, typeRange } from './types.js';

/** One code per element; int4/uint4 are unpacked (pack them with packSubByte). */
export type QuantizedArray = Int8Array | Uint8Array | Int16Array | Uint16Array;

export function quantizedArrayFor(type: QuantType, length: number): QuantizedArray {
  // Every QuantType is a DType whose element array is one of QuantizedArray's members.
  return new (elementArrayFor(type))(length) as QuantizedArray;
}

export interface QuantizeOptions {
  /** Default: round half to even, as QuantizeLinear. */
  rounding?: Rounding;
  out?: QuantizedArray;
}

/**
 * Quantizes `data` (row-major, of `shape`). Values beyond the range saturate; NaN maps to qmin, as
 * ONNX Runtime's kernels do (the ONNX spec leaves it undefined; reject NaN weights with assertFinite).
 */
export function quantize(
  data: Float32Array,
  shape: readonly number[],
  params: QuantParams,
  options: QuantizeOptions = {},
): QuantizedArray {
  if (data.length !== elementCount(shape)) {
    throw new RangeError(`shape [${shape}] has ${elementCount(shape)} elements, data has ${data.length}`);
  }
  const { outer, dim, inner, blockSize, outerStride, dimStride, innerStride } = layoutOf(shape, params);
  const out = options.out ?? quantizedArrayFor(params.type, data.length);
  checkOutput(out, data.length);
  const { qmin, qmax } = params.codeRange ?? typeRange(params.type);
  const { scale, zeroPoint } = params;
  const rounding = options.rounding ?? NEAREST_EVEN;
  const rng = rounding.mode === 'stochastic' ? rounding.rng : undefined;
  let idx = 0;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < dim; d++) {
      let p = o * outerStride + Math.floor(d / blockSize) * dimStride;
      for (let i = 0; i < inner; i++, idx++, p += innerStride) {
        const z = zeroPoint[p];
        const lo = qmin - z;
        const hi = qmax - z;
        // Math.fround of the double quotient of two float32 values is exactly the float32 quotient.
        let v = Math.fround(data[idx] / scale[p]);
        // Not Math.max/min: NaN must fail the test and become lo, as x86 MAXPS makes it in ONNX Runtime.
        if (!(v > lo)) v = lo;
        else if (v > hi) v = hi;
        out[idx] = (rng ? roundStochastic(v, rng) : roundHalfEven(v)) + z;
      }
    }
  }
  return out;
}
