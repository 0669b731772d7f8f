/**
 * NaN and ±Inf have no quantized code (QuantizeLinear would silently saturate them), so weights holding
 * them are rejected with the tensor's name and the first bad element.
 */

import { QuantkitError } from '../errors.js';

export function assertFinite(
  name: string,
  data: Float32Array | Float64Array,
  shape?: readonly number[],
): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for finite v and NaN for NaN and ±Inf: one comparison per element.
    if (v - v !== 0) {
      const where = shape && shape.length > 1 ? ` (index [${unravel(i, shape)}])` : '';
      throw new QuantkitError(
        `tensor '${name}' has ${v} at element ${i}${where}; NaN and Infinity cannot be quantized, fix the model first`,
      );
    }
  }
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    index[k] = flat % shape[k];
    flat = Math.floor(flat / shape[k]);
  }
  return index;
}
