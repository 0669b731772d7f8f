/**
 * Integer types a tensor can be quantized to, and the code ranges each is used with.
 */

export type QuantType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int4' | 'uint4';

export const QUANT_TYPES: readonly QuantType[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];

export interface QuantRangeOptions {
  /** Symmetric quantization (zero point in the middle of the range). Default false. */
  symmetric?: boolean;
  /**
   * With `symmetric`: use every code (int8 [-128, 127]) instead of the restricted range that mirrors
   * around the zero point (int8 [-127, 127], uint8 [1, 255] around 128). Default false.
   */
  fullRange?: boolean;
  /**
   * Use one bit fewer (int8 [-64, 63], restricted [-63, 63]; uint8 [0, 127]). This is what ONNX Runtime's
   * `reduce_range` is for: without VNNI, x86 u8s8 kernels sum pairs of products in 16 bits
   * (VPMADDUBSW), which saturates when weights use all 8 bits. Default false.
   */
  reduceRange?: boolean;
}

export interface QuantRange {
  qmin: number;
  qmax: number;
}

export function quantTypeBits(type: QuantType): number {
  return type.endsWith('16') ? 16 : type.endsWith('8') ? 8 : 4;
}

export function isSignedQuantType(type: QuantType): boolean {
  return type.startsWith('int');
}

/** Every code the type can hold: what QuantizeLinear saturates to. */
export function typeRange(type: QuantType): QuantRange {
  const bits = quantTypeBits(type);
  return isSignedQuantType(type)
    ? { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 }
    : { qmin: 0, qmax: 2 ** bits - 1 };
}

/** The codes quantization maps the clipping range onto. */
export function quantRange(type: QuantType, options: QuantRangeOptions = {}): QuantRange {
  const bits = quantTypeBits(type) - (options.reduceRange ? 1 : 0);
  const restricted = options.symmetric === true && options.fullRange !== true;
  if (isSignedQuantType(type)) {
    const half = 2 ** (bits - 1);
    return { qmin: restricted ? -(half - 1) : -half, qmax: half - 1 };
  }
  return { qmin: restricted ? 1 : 0, qmax: 2 ** bits - 1 };
}

/**
 * The zero point of symmetric quantization: the middle of the range, rounded up when the range has an
 * even number of codes (full-range int8 gets 0, full-range uint8 gets 128).
 */
export function symmetricZeroPoint(range: QuantRange): number {
  // `+ 0` turns the -0 that Math.ceil(-0.5) gives into 0.
  return Math.ceil((range.qmin + range.qmax) / 2) + 0;
}
