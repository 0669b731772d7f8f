/**
 * bfloat16 <-> float32 on raw bit patterns. bfloat16 is the top half of a float32, so conversion is
 * a rounded 16-bit shift (to nearest, ties to even) and the way back is exact.
 */

import { checkOutput } from './check-output.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float32BitsToBfloat16Bits(x: number): number {
  // NaN keeps its sign and top payload bits and is made quiet, as in the float16 conversion.
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  // Adding 0x7fff plus the kept LSB rounds ties to even; a carry may reach the exponent (up to Inf).
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

export function bfloat16BitsToFloat32Bits(b: number): number {
  return (b << 16) >>> 0;
}

export function float32ToBfloat16Bits(x: number): number {
  f32[0] = x;
  return float32BitsToBfloat16Bits(u32[0]);
}

/** The value; NaN payloads are not kept by a JS number, use the array form for bit-exact copies. */
export function bfloat16BitsToFloat32(b: number): number {
  u32[0] = bfloat16BitsToFloat32Bits(b);
  return f32[0];
}

export function float32ArrayToBfloat16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  checkOutput(out, src.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = float32BitsToBfloat16Bits(bits[i]);
  return out;
}

export function bfloat16ArrayToFloat32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  checkOutput(out, src.length);
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}
