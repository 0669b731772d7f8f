/**
 * A dense, row-major (C order) n-dimensional array: the unit that data files, calibration batches and
 * quantization exchange. `data` holds one element per entry, in the typed array `elementArrayFor(dtype)`
 * gives (raw bits for float16/bfloat16/float8, one value per byte for 4- and 2-bit integers).
 */

import { QuantkitError } from '../errors.js';
import { type DType, elementArrayFor, type TypedArray } from './dtype.js';

export interface NdArray {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Wraps data after checking that its length and array type fit the dtype and shape. */
export function ndarray(dtype: DType, shape: readonly number[], data: TypedArray): NdArray {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid dimension ${d} in shape [${shape}]`);
  }
  const n = elementCount(shape);
  if (data.length !== n) {
    throw new RangeError(`shape [${shape}] has ${n} elements, data has ${data.length}`);
  }
  const expected = elementArrayFor(dtype);
  if (!(data instanceof expected)) {
    throw new TypeError(`${dtype} data must be a ${expected.name}, got ${data.constructor.name}`);
  }
  return { dtype, shape: [...shape], data };
}

/** Rows [start, end) of axis 0, sharing memory with `arr`. */
export function sliceAxis0(arr: NdArray, start: number, end: number): NdArray {
  if (arr.shape.length === 0) throw new RangeError('cannot slice a scalar');
  const rows = arr.shape[0];
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) {
    throw new RangeError(`slice [${start}, ${end}) is outside axis 0 of length ${rows}`);
  }
  const rowSize = elementCount(arr.shape.slice(1));
  return {
    dtype: arr.dtype,
    shape: [end - start, ...arr.shape.slice(1)],
    data: arr.data.subarray(start * rowSize, end * rowSize),
  };
}

/** Joins arrays of one dtype and equal trailing dimensions along axis 0 (copies). */
export function concatAxis0(arrays: readonly NdArray[]): NdArray {
  if (arrays.length === 0) throw new RangeError('nothing to concatenate');
  const [first] = arrays;
  if (first.shape.length === 0) throw new RangeError('cannot concatenate scalars');
  const tail = first.shape.slice(1);
  let rows = 0;
  for (const a of arrays) {
    if (a.dtype !== first.dtype) {
      throw new QuantkitError(`cannot concatenate ${a.dtype} with ${first.dtype}`);
    }
    if (a.shape.length !== first.shape.length || a.shape.some((d, i) => i > 0 && d !== first.shape[i])) {
      throw new QuantkitError(`cannot concatenate shape [${a.shape}] with [${first.shape}] along axis 0`);
    }
    rows += a.shape[0];
  }
  const Ctor = elementArrayFor(first.dtype);
  const data = new Ctor(rows * elementCount(tail));
  let offset = 0;
  for (const a of arrays) {
    // Every element array of one dtype has the same constructor, which set() accepts.
    (data as Float32Array).set(a.data as Float32Array, offset);
    offset += a.data.length;
  }
  return { dtype: first.dtype, shape: [rows, ...tail], data };
}
