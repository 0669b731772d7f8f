/** Swapping the last two axes of a row-major [batch, rows, cols] array, for weight layouts. */
import type { TypedArray } from '../../tensor/dtype.js';

type NumericArray = Exclude<TypedArray, BigInt64Array | BigUint64Array>;

/** out[b][c][r] = src[b][r][c]; `out` has the same type and length as `src`. */
export function swapLastAxes<T extends NumericArray>(
  src: T,
  batch: number,
  rows: number,
  cols: number,
  out: T,
): T {
  const plane = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * plane;
    for (let r = 0; r < rows; r++) {
      const row = base + r * cols;
      for (let c = 0; c < cols; c++) out[base + c * rows + r] = src[row + c];
    }
  }
  return out;
}
