/**
 * IEEE 754 binary16 ("half") <-> float32, on raw bit patterns (Node 20 has no Float16Array).
 * Rounding is to nearest, ties to even, computed on the float32 bits so no double rounding occurs.
 */

import { checkOutput } from './check-output.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half bits for the float32 with these bits. */
export function float32BitsToFloat16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    // NaN keeps its sign and top payload bits and is made quiet, as x86 F16C (and ONNX Runtime's Cast) do.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  if (exp >= 143) return sign | 0x7c00; // >= 2^16 overflows whatever the rounding
  if (exp >= 113) {
    // Normal range. A carry out of the mantissa bumps the exponent, up to Inf for values >= 65520.
    let h = ((exp - 112) << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0)) h++;
    return sign | h;
  }
  // Subnormal (or zero) in half: shift the 24-bit significand down to units of 2^-24. Below 2^-25 it
  // rounds to zero; exactly 2^-25 is a tie that goes to the even value, zero.
  if (exp < 102) return sign;
  const sig = mant | 0x800000;
  const shift = 126 - exp;
  let h = sig >>> shift;
  const rest = sig & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) !== 0)) h++;
  return sign | h;
}

/** Float32 bits for the half with these bits (exact). */
export function float16BitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: every one of them is a normal float32; normalise the significand.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  return float32BitsToFloat16Bits(u32[0]);
}

/** The half's value. NaN payloads are not kept by a JS number; use the array form for bit-exact copies. */
export function float16BitsToFloat32(h: number): number {
  u32[0] = float16BitsToFloat32Bits(h);
  return f32[0];
}

/** Converts every element, working on the bits (a JS number would not carry a NaN's payload). */
export function float32ArrayToFloat16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  checkOutput(out, src.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = float32BitsToFloat16Bits(bits[i]);
  return out;
}

export function float16ArrayToFloat32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  checkOutput(out, src.length);
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = float16BitsToFloat32Bits(src[i]);
  return out;
}
