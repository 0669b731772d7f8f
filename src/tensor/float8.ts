/**
 * The ONNX 8-bit (and 4-bit) float formats: decoding to float32 for all of them, encoding from float32
 * for the two that Cast targets most (E4M3FN, E5M2) with Cast's saturate=true behaviour.
 * See https://onnx.ai/onnx/technical/float8.html and float4.html.
 */

import { checkOutput } from './check-output.js';

export type MiniFloatDType =
  'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0' | 'float4e2m1';

export type Float8EncodeDType = 'float8e4m3fn' | 'float8e5m2';

interface Layout {
  mantBits: number;
  bias: number;
  /** A code's value where the sign/exponent/mantissa formula does not give it (NaN, ±Inf, all of E8M0). */
  special(code: number): number | undefined;
  codes: number;
}

const LAYOUTS: Record<MiniFloatDType, Layout> = {
  float8e4m3fn: {
    mantBits: 3,
    bias: 7,
    codes: 256,
    special: (c) => ((c & 0x7f) === 0x7f ? Number.NaN : undefined),
  },
  float8e4m3fnuz: { mantBits: 3, bias: 8, codes: 256, special: (c) => (c === 0x80 ? Number.NaN : undefined) },
  float8e5m2: {
    mantBits: 2,
    bias: 15,
    codes: 256,
    special: (c) => {
      if ((c & 0x7c) !== 0x7c) return undefined;
      if ((c & 3) !== 0) return Number.NaN;
      return c & 0x80 ? -Infinity : Infinity;
    },
  },
  float8e5m2fnuz: {
    mantBits: 2,
    bias: 16,
    codes: 256,
    special: (c) => (c === 0x80 ? Number.NaN : undefined),
  },
  // Unsigned exponent only: 2^(code - 127), 0xff is the single NaN.
  float8e8m0: {
    mantBits: 0,
    bias: 127,
    codes: 256,
    special: (c) => (c === 0xff ? Number.NaN : 2 ** (c - 127)),
  },
  float4e2m1: { mantBits: 1, bias: 1, codes: 16, special: () => undefined },
};

const tables = new Map<MiniFloatDType, Float32Array>();

function decodeTable(dtype: MiniFloatDType): Float32Array {
  let table = tables.get(dtype);
  if (table) return table;
  const { mantBits, bias, codes, special } = LAYOUTS[dtype];
  const signBit = codes >>> 1;
  table = new Float32Array(codes);
  for (let c = 0; c < codes; c++) {
    const fixed = special(c);
    if (fixed !== undefined) {
      table[c] = fixed;
      continue;
    }
    const exp = (c & (signBit - 1)) >>> mantBits;
    const mant = c & ((1 << mantBits) - 1);
    const magnitude =
      exp === 0 ? mant * 2 ** (1 - bias - mantBits) : (1 + mant / (1 << mantBits)) * 2 ** (exp - bias);
    table[c] = c & signBit ? -magnitude : magnitude;
  }
  tables.set(dtype, table);
  return table;
}

/** The value of one code (float4e2m1 takes a 4-bit code, the others a byte). */
export function miniFloatToFloat32(dtype: MiniFloatDType, code: number): number {
  const table = decodeTable(dtype);
  if (!Number.isInteger(code) || code < 0 || code >= table.length) {
    throw new RangeError(`${dtype} code ${code} is outside [0, ${table.length - 1}]`);
  }
  return table[code];
}

/** Decodes one code per element (float4e2m1 unpacked, one nibble per byte). */
export function decodeMiniFloat(
  dtype: MiniFloatDType,
  src: Uint8Array,
  out = new Float32Array(src.length),
): Float32Array {
  checkOutput(out, src.length);
  const table = decodeTable(dtype);
  const mask = table.length - 1;
  for (let i = 0; i < src.length; i++) out[i] = table[src[i] & mask];
  return out;
}

const ENCODE = {
  float8e4m3fn: { mantBits: 3, bias: 7, maxCode: 0x7e, nanCode: 0x7f },
  float8e5m2: { mantBits: 2, bias: 15, maxCode: 0x7b, nanCode: 0x7f },
} as const;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Rounds a float32 to the nearest code, ties to even; like ONNX Cast with saturate=true, values beyond the
 * largest finite one (±Inf included) become ±max, and NaN stays NaN.
 */
export function float32ToFloat8(dtype: Float8EncodeDType, x: number): number {
  f32[0] = x;
  return encodeBits(ENCODE[dtype], u32[0]);
}

export function encodeFloat8(
  dtype: Float8EncodeDType,
  src: Float32Array,
  out = new Uint8Array(src.length),
): Uint8Array {
  checkOutput(out, src.length);
  const layout = ENCODE[dtype];
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = encodeBits(layout, bits[i]);
  return out;
}

function encodeBits(layout: (typeof ENCODE)[Float8EncodeDType], bits: number): number {
  const { mantBits, bias, maxCode, nanCode } = layout;
  const sign = (bits >>> 24) & 0x80;
  const exp32 = (bits >>> 23) & 0xff;
  if (exp32 === 0xff) return sign | ((bits & 0x7fffff) !== 0 ? nanCode : maxCode);
  // float32 subnormals are far below half the smallest float8 subnormal: they round to zero.
  if (exp32 === 0) return sign;
  u32[0] = bits & 0x7fffffff;
  const magnitude = f32[0];
  // Count in units of the target's spacing at this magnitude (subnormals share the smallest normal
  // exponent's spacing). Codes are then consecutive across the subnormal/normal boundary and across
  // exponents, so a rounding carry needs no special case.
  const e = Math.max(exp32 - 127, 1 - bias);
  const steps = roundHalfEvenPositive(magnitude * 2 ** (mantBits - e));
  const code = ((e + bias) << mantBits) + steps - (1 << mantBits);
  return sign | Math.min(code, maxCode);
}

function roundHalfEvenPositive(v: number): number {
  const floor = Math.floor(v);
  const rest = v - floor;
  if (rest > 0.5 || (rest === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}
