/**
 * Splitting data along axis 0 into batches (calibration and evaluation feed). Batches are views into the
 * source arrays, never copies; the last batch may be smaller.
 */

import { QuantkitError } from '../errors.js';
import { type NdArray, sliceAxis0 } from '../tensor/ndarray.js';

/** Checks its arguments at once (not at the first iteration, as a bare generator would). */
export function batches(arr: NdArray, batchSize: number): IterableIterator<NdArray> {
  const rows = axis0Length(arr, 'array');
  checkBatchSize(batchSize);
  return (function* () {
    for (let start = 0; start < rows; start += batchSize) {
      yield sliceAxis0(arr, start, Math.min(start + batchSize, rows));
    }
  })();
}

/** Batches of several named inputs at once; every input must have the same length on axis 0. */
export function recordBatches(
  inputs: Record<string, NdArray>,
  batchSize: number,
): IterableIterator<Record<string, NdArray>> {
  const names = Object.keys(inputs);
  if (names.length === 0) throw new QuantkitError('no inputs to batch');
  checkBatchSize(batchSize);
  const rows = axis0Length(inputs[names[0]], names[0]);
  for (const name of names) {
    const n = axis0Length(inputs[name], name);
    if (n !== rows) {
      throw new QuantkitError(`input '${name}' has ${n} samples but '${names[0]}' has ${rows}`);
    }
  }
  return (function* () {
    for (let start = 0; start < rows; start += batchSize) {
      const end = Math.min(start + batchSize, rows);
      const batch: Record<string, NdArray> = {};
      for (const name of names) batch[name] = sliceAxis0(inputs[name], start, end);
      yield batch;
    }
  })();
}

function axis0Length(arr: NdArray, name: string): number {
  if (arr.shape.length === 0) throw new QuantkitError(`'${name}' is a scalar; batches split axis 0`);
  return arr.shape[0];
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new QuantkitError(`batch size must be a positive integer, got ${batchSize}`);
  }
}
