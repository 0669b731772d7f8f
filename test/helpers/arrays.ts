import type { TypedArray } from '../../src/tensor/dtype.js';

/** A plain array of any typed array's elements, for deepEqual against literals. */
export function toArray(data: TypedArray): Array<number | bigint> {
  return Array.from(data as ArrayLike<number | bigint>);
}
