/**
 * Batches as evaluation receives them: one array per model input, samples along axis 0. Inputs of
 * rank 0 (a flag, a threshold) are not per sample and are passed through unchanged.
 */
import { QuantkitError } from '../errors.js';
import { concatAxis0, type NdArray, sliceAxis0 } from '../tensor/ndarray.js';

export type Batch = Record<string, NdArray>;

/** The batch's sample count: axis 0 of its first array that has one. */
export function batchRows(batch: Batch): number {
  for (const arr of Object.values(batch)) if (arr.shape.length > 0) return arr.shape[0];
  throw new QuantkitError('a batch has no per-sample input (every array is a scalar)');
}

/**
 * Keeps a copy of the first `size` samples that stream past (a source may reuse its buffers) and
 * returns them as one batch of exactly `size` samples, repeating them when the data has fewer.
 * This is the batch latency is timed on; it costs memory for `size` samples, not for the data set.
 */
export class FirstSamples {
  private readonly parts: Batch[] = [];
  private rows = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new QuantkitError(`batch size must be a positive integer, got ${size}`);
    }
  }

  add(batch: Batch): void {
    if (this.rows >= this.size) return;
    const take = Math.min(batchRows(batch), this.size - this.rows);
    if (take === 0) return;
    const part: Batch = {};
    for (const [name, arr] of Object.entries(batch)) {
      part[name] = arr.shape.length === 0 ? concatScalar(arr) : concatAxis0([sliceAxis0(arr, 0, take)]);
    }
    this.parts.push(part);
    this.rows += take;
  }

  batch(): Batch {
    if (this.rows === 0) throw new QuantkitError('the data has no samples');
    const out: Batch = {};
    for (const [name, first] of Object.entries(this.parts[0])) {
      if (first.shape.length === 0) {
        out[name] = first;
        continue;
      }
      const pieces: NdArray[] = [];
      for (let n = 0; n < this.size;) {
        for (const part of this.parts) {
          if (n >= this.size) break;
          const arr = part[name];
          const take = Math.min(arr.shape[0], this.size - n);
          pieces.push(take === arr.shape[0] ? arr : sliceAxis0(arr, 0, take));
          n += take;
        }
      }
      out[name] = pieces.length === 1 ? pieces[0] : concatAxis0(pieces);
    }
    return out;
  }
}

function concatScalar(arr: NdArray): NdArray {
  return { dtype: arr.dtype, shape: [], data: arr.data.slice() };
}
