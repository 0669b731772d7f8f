/**
 * GPTQ (Frantar et al. 2022): quantize the weight one input channel at a time and, after each, move
 * its rounding error onto the channels not yet quantized, weighted by the inverse Hessian of the
 * layer's output error, H = 2·XᵀX over the calibration inputs X [tokens, K].
 *
 * In quantkit's [K, N] layout GPTQ's "columns" are the rows k of W (one input channel, all N outputs).
 * With U the upper Cholesky factor of H⁻¹ (linalg/cholesky.ts), row k is rounded to q_k and
 *   e = (w_k − q_k) / U[k, k],   w_j ← w_j − U[k, j]·e   for every later row j,
 * applied at once inside a lazy batch of rows and as one matrix update to the rows after it. Blocks of
 * `blockSize` rows along K (MatMulNBits' layout) get their scale and zero point from their current,
 * error-updated values when quantization reaches their first row, as GPTQ does with groups; the lazy
 * batch is a multiple of the block size, so that moment always sees every earlier update.
 *
 * Act-order processes rows by descending H[k, k]. Its groups then come from the processing order,
 * which MatMulNBits can express only through g_idx (deprecated; ONNX Runtime's GPTQ re-quantizes its
 * result with round-to-nearest instead, losing part of the gain). Here act-order uses static groups:
 * every block's scale and zero point are fixed from the original weight first, so each row is
 * quantized on its own block's grid and the result is exactly the MatMulNBits layout.
 *
 * H's constant factor cancels (damping is relative to its diagonal, and the update uses ratios of U's
 * entries), so the Gram matrix XᵀX is used as it is. Channels the calibration never exercised
 * (H[k, k] = 0) get H[k, k] = 1: they are rounded to nearest and pass no error on; GPTQ's reference
 * also zeroes their weights, which would drop whatever the calibration data did not show.
 */
import { allocateBlocks, type BlockQuantized, type BlockShape, weightColumns } from './blocked-weight.js';
import { inverseCholeskyUpper } from './linalg/cholesky.js';
import { encodeValue, rtnBlockParams, type RtnRule } from './rtn.js';

export interface GptqOptions {
  /** Damping added to H's diagonal, as a fraction of its mean. Default 0.01. */
  damp?: number;
  /** Quantize channels by descending H[k, k] (static groups). Default false. */
  actOrder?: boolean;
}

/** Rows per lazy batch update, as GPTQ's reference (raised to the block size when that is larger). */
const LAZY_ROWS = 128;

/**
 * GPTQ of a [K, N] float32 weight (row-major, a MatMul's B) given the Gram matrix XᵀX (K×K, float64)
 * of the layer's calibration inputs. Throws NotPositiveDefinite when even the damped H is singular.
 */
export function gptq(
  weight: Float32Array,
  shape: BlockShape,
  gram: Float64Array,
  rule: RtnRule,
  options: GptqOptions = {},
): BlockQuantized {
  const { k, n, bits, blockSize } = shape;
  if (weight.length !== k * n || gram.length !== k * k) {
    throw new RangeError(`GPTQ of a [${k}, ${n}] weight needs ${k * n} weights and a ${k}×${k} Gram matrix`);
  }
  const q = allocateBlocks(shape);
  const qmax = 2 ** bits - 1;
  const h = Float64Array.from(gram);
  let trace = 0;
  for (let i = 0; i < k; i++) {
    if (h[i * k + i] === 0) h[i * k + i] = 1;
    trace += h[i * k + i];
  }
  const order = options.actOrder ? descendingDiagonal(h, k) : undefined;
  if (order) fixAllBlockParams(weight, q, rule);
  const damping = (options.damp ?? 0.01) * (trace / k);
  // H and W in processing order; `rowOf[i]` is the original row quantized i-th.
  const rowOf = order ?? Int32Array.from({ length: k }, (_, i) => i);
  const hp = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) hp[i * k + j] = h[rowOf[i] * k + rowOf[j]];
    hp[i * k + i] += damping;
  }
  const u = inverseCholeskyUpper(hp, k);
  const w = new Float64Array(k * n);
  for (let i = 0; i < k; i++) for (let c = 0, r = rowOf[i] * n; c < n; c++) w[i * n + c] = weight[r + c];

  const lazy = Math.max(LAZY_ROWS, blockSize);
  const errors = new Float64Array(lazy * n);
  const scratch = new Float32Array(blockSize);
  for (let i1 = 0; i1 < k; i1 += lazy) {
    const i2 = Math.min(i1 + lazy, k);
    for (let i = i1; i < i2; i++) {
      const row = rowOf[i];
      const block = Math.floor(row / blockSize);
      if (!order && row % blockSize === 0)
        blockParamsFromRows(w, i, Math.min(k, i + blockSize), q, scratch, rule);
      const d = u[i * k + i];
      const e = (i - i1) * n;
      for (let c = 0; c < n; c++) {
        const p = c * q.blocks + block;
        const scale = q.scales[p];
        const zero = q.zeroPoints[p];
        const value = w[i * n + c];
        const code = encodeValue(value, scale, zero, qmax);
        q.codes[c * k + row] = code;
        errors[e + c] = (value - Math.fround((code - zero) * scale)) / d;
      }
      for (let j = i + 1; j < i2; j++) subtractScaled(w, j * n, errors, e, u[i * k + j], n);
    }
    for (let j = i2; j < k; j++) {
      for (let i = i1; i < i2; i++) subtractScaled(w, j * n, errors, (i - i1) * n, u[i * k + j], n);
    }
  }
  return q;
}

/** target[t…t+n) −= f · source[s…s+n) */
function subtractScaled(
  target: Float64Array,
  t: number,
  source: Float64Array,
  s: number,
  f: number,
  n: number,
): void {
  if (f === 0) return;
  for (let c = 0; c < n; c++) target[t + c] -= f * source[s + c];
}

/** Row indices by descending H[k, k], ties in index order. */
function descendingDiagonal(h: Float64Array, k: number): Int32Array {
  const idx = Array.from({ length: k }, (_, i) => i);
  idx.sort((a, b) => h[b * k + b] - h[a * k + a] || a - b);
  return Int32Array.from(idx);
}

/** Each block's scale and zero point from rows [from, to) of the current weight, column by column. */
function blockParamsFromRows(
  w: Float64Array,
  from: number,
  to: number,
  q: BlockQuantized,
  scratch: Float32Array,
  rule: RtnRule,
): void {
  const { n, blocks, blockSize, bits } = q;
  const block = Math.floor(from / blockSize);
  for (let c = 0; c < n; c++) {
    for (let r = from; r < to; r++) scratch[r - from] = w[r * n + c];
    rtnBlockParams(scratch, 0, to - from, rule, bits, q, c * blocks + block);
  }
}

/** Static groups: every block's parameters from the original weight, as round-to-nearest sets them. */
function fixAllBlockParams(weight: Float32Array, q: BlockQuantized, rule: RtnRule): void {
  const { k, n, blocks, blockSize, bits } = q;
  const columns = weightColumns(weight, k, n);
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < blocks; b++) {
      const from = c * k + b * blockSize;
      rtnBlockParams(columns, from, Math.min(from + blockSize, c * k + k), rule, bits, q, c * blocks + b);
    }
  }
}
