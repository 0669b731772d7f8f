/**
 * Packing of ONNX sub-byte integers: int4/uint4 two per byte with the first element in the low nibble,
 * int2/uint2 four per byte starting from the lowest bits; a short last byte is padded with zero bits.
 * See https://onnx.ai/onnx/technical/int4.html and int2.html.
 */

import { QuantkitError } from '../errors.js';
import { checkOutput } from './check-output.js';

export type SubByteDType = 'int4' | 'uint4' | 'int2' | 'uint2';

const BITS: Record<SubByteDType, number> = { int4: 4, uint4: 4, int2: 2, uint2: 2 };

export function packedByteLength(dtype: SubByteDType, count: number): number {
  return Math.ceil((count * BITS[dtype]) / 8);
}

/** Packs one value per element; values must be within the type's range. */
export function packSubByte(
  dtype: SubByteDType,
  values: Int8Array | Uint8Array,
  out = new Uint8Array(packedByteLength(dtype, values.length)),
): Uint8Array {
  const bits = BITS[dtype];
  const needed = packedByteLength(dtype, values.length);
  if (out.length < needed) {
    throw new RangeError(`${values.length} ${dtype} values need ${needed} bytes, output holds ${out.length}`);
  }
  const signed = dtype === 'int4' || dtype === 'int2';
  const lo = signed ? -(1 << (bits - 1)) : 0;
  const hi = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  const mask = (1 << bits) - 1;
  const perByte = 8 / bits;
  out.fill(0, 0, needed);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo || v > hi) throw new RangeError(`${dtype} value ${v} at index ${i} is outside [${lo}, ${hi}]`);
    out[(i / perByte) | 0] |= (v & mask) << ((i % perByte) * bits);
  }
  return out;
}

/** Unpacks `count` elements, sign-extending the signed types. */
export function unpackSubByte(
  dtype: 'int4' | 'int2',
  packed: Uint8Array,
  count: number,
  out?: Int8Array,
): Int8Array;
export function unpackSubByte(
  dtype: 'uint4' | 'uint2',
  packed: Uint8Array,
  count: number,
  out?: Uint8Array,
): Uint8Array;
export function unpackSubByte(
  dtype: SubByteDType,
  packed: Uint8Array,
  count: number,
  out?: Int8Array | Uint8Array,
): Int8Array | Uint8Array;
export function unpackSubByte(
  dtype: SubByteDType,
  packed: Uint8Array,
  count: number,
  out?: Int8Array | Uint8Array,
): Int8Array | Uint8Array {
  const bits = BITS[dtype];
  const needed = packedByteLength(dtype, count);
  if (packed.length < needed) {
    // Short packed data comes from a malformed file rather than from a caller's bug.
    throw new QuantkitError(`${count} ${dtype} values need ${needed} packed bytes, got ${packed.length}`);
  }
  const signed = dtype === 'int4' || dtype === 'int2';
  const result = out ?? (signed ? new Int8Array(count) : new Uint8Array(count));
  checkOutput(result, count);
  const perByte = 8 / bits;
  // Shifting the field to the top of a 32-bit int and back sign-extends it in one step.
  const up = 32 - bits;
  for (let i = 0; i < count; i++) {
    const field = packed[(i / perByte) | 0] >>> ((i % perByte) * bits);
    result[i] = signed ? (field << up) >> up : field & ((1 << bits) - 1);
  }
  return result;
}
