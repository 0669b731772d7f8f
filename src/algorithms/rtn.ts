/**
 * Round to nearest (RTN), block by block: each block's scale and zero point come from its own values,
 * and every value is rounded to the nearest code. Three rules for the scale:
 *
 * - `asymmetric` (DOMAIN.md §1): the block's range widened to contain 0, S = (max − min) / (2^b − 1),
 *   Z = round(−min / S). The same arithmetic as quant/qparams.ts `qparamsFromRange` (float32 scale,
 *   round half to even), generalised to any bit width.
 * - `restricted` (DOMAIN.md §1, symmetric over the restricted range): S = max|w| / (2^(b−1) − 1), Z = 2^(b−1); codes stay
 *   within ±(2^(b−1) − 1) of Z, so one of the 2^b codes is never used.
 * - `signed-max` (ONNX Runtime's MatMulNBits quantizer, MLAS): m = the block's element of largest
 *   magnitude, sign kept; S = m / −2^(b−1), Z = 2^(b−1). m itself lands exactly on code 0, the extreme
 *   code, so all 2^b codes are used and the step is max|w| / 2^(b−1) instead of max|w| / (2^(b−1) − 1)
 *   — 12.5% finer at 4 bits. The price: a value of the opposite sign and nearly the same magnitude
 *   clips to (2^(b−1) − 1)·|S|. S is negative whenever m is positive; every consumer of the scale
 *   (MatMulNBits, DequantizeLinear) just multiplies by it.
 *
 * Quantizing a value divides in float32, clamps, and rounds half to even, as QuantizeLinear does
 * (quant/quantize.ts).
 */
import { roundHalfEven } from '../quant/rounding.js';
import { allocateBlocks, type BlockQuantized, type BlockShape, weightColumns } from './blocked-weight.js';

export type RtnRule = 'asymmetric' | 'restricted' | 'signed-max';

/** Where a block's scale and zero point go: index `p` of these arrays. */
export interface BlockParamsOut {
  scales: Float32Array;
  zeroPoints: Uint8Array;
}

// Smallest normal float32: below it a scale is replaced by 1 (the block is all zeros, or nearly), as
// quant/qparams.ts does, so that every code is finite and such a block dequantizes to exactly 0.
const FLOAT32_MIN_NORMAL = 2 ** -126;

/** Scale and zero point of the block `values[from, to)` under `rule`, written at index `p` of `out`. */
export function rtnBlockParams(
  values: Float32Array,
  from: number,
  to: number,
  rule: RtnRule,
  bits: number,
  out: BlockParamsOut,
  p: number,
): void {
  const half = 2 ** (bits - 1);
  if (rule === 'asymmetric') {
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const qmax = 2 * half - 1;
    const scale = normalScale(Math.fround((hi - lo) / qmax));
    const zero = roundHalfEven(-Math.fround(lo / scale));
    out.scales[p] = scale;
    out.zeroPoints[p] = Math.min(Math.max(zero, 0), qmax);
    return;
  }
  let amax = 0;
  let signedMax = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(values[i]);
    if (a > amax) {
      amax = a;
      signedMax = values[i];
    }
  }
  out.scales[p] = normalScale(Math.fround(rule === 'signed-max' ? signedMax / -half : amax / (half - 1)));
  out.zeroPoints[p] = half;
}

/** The code of `v`: round(v / S) + Z clamped to [0, qmax], the division in float32. */
export function encodeValue(v: number, scale: number, zero: number, qmax: number): number {
  let x = Math.fround(v / scale);
  // Clamping before rounding, as QuantizeLinear does, keeps huge quotients from overflowing.
  if (!(x > -zero)) x = -zero;
  else if (x > qmax - zero) x = qmax - zero;
  return roundHalfEven(x) + zero;
}

/** RTN of a [K, N] float32 weight (row-major, as a MatMul's B) in blocks along K. */
export function rtn(weight: Float32Array, shape: BlockShape, rule: RtnRule): BlockQuantized {
  return quantizeBlocks(weight, shape, (columns, from, to, q, p) =>
    rtnBlockParams(columns, from, to, rule, shape.bits, q, p),
  );
}

/**
 * Quantizes a [K, N] weight block by block: `fit` sets block `p`'s scale and zero point from the
 * column-major values in [from, to), then every value is rounded to the nearest code.
 */
export function quantizeBlocks(
  weight: Float32Array,
  shape: BlockShape,
  fit: (columns: Float32Array, from: number, to: number, q: BlockQuantized, p: number) => void,
): BlockQuantized {
  const q = allocateBlocks(shape);
  const { k, n, bits, blockSize, blocks, codes, scales, zeroPoints } = q;
  const columns = weightColumns(weight, k, n);
  const qmax = 2 ** bits - 1;
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < blocks; b++) {
      const from = c * k + b * blockSize;
      const to = c * k + Math.min(k, (b + 1) * blockSize);
      const p = c * blocks + b;
      fit(columns, from, to, q, p);
      const scale = scales[p];
      const zero = zeroPoints[p];
      for (let i = from; i < to; i++) codes[i] = encodeValue(columns[i], scale, zero, qmax);
    }
  }
  return q;
}

function normalScale(scale: number): number {
  return Math.abs(scale) >= FLOAT32_MIN_NORMAL ? scale : 1;
}
