/**
 * Model outputs as float32, whatever their element type, so every metric is one loop over one kind
 * of array. float16 outputs (FP16 models) are decoded from their bit patterns.
 */
import { QuantkitError } from '../errors.js';
import { float16ArrayToFloat32 } from '../tensor/float16.js';
import type { NdArray } from '../tensor/ndarray.js';

/** The array itself when it already is float32, otherwise a converted copy. */
export function asFloat32(arr: NdArray, what: string): Float32Array {
  switch (arr.dtype) {
    case 'float32':
      return arr.data as Float32Array;
    case 'float16':
      return float16ArrayToFloat32(arr.data as Uint16Array);
    case 'float64':
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'bool':
      return Float32Array.from(arr.data as ArrayLike<number>);
    case 'int64':
    case 'uint64': {
      const src = arr.data as BigInt64Array | BigUint64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    default:
      throw new QuantkitError(`${what} is ${arr.dtype}; only real numeric outputs can be evaluated`);
  }
}
