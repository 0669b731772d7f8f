/**
 * A [K, N] weight (the B input of a MatMul) quantized in blocks of `blockSize` consecutive elements
 * along K, with one scale and one zero point per (column, block): the layout shared by ONNX Runtime's
 * MatMulNBits and by opset-21 blocked DequantizeLinear (DOMAIN.md §2, per-group). Every weight
 * quantizer (RTN, HQQ, and later AWQ and GPTQ) produces this; the writers only pack it.
 *
 * Codes are unsigned, 0 … 2^bits − 1, whatever the symmetry: a symmetric block simply has the zero
 * point 2^(bits−1). That is how MatMulNBits stores every weight, and a writer needing signed codes
 * subtracts the zero point.
 */

export interface BlockShape {
  /** Rows of the weight: the MatMul's inner dimension, along which blocks run. */
  k: number;
  /** Columns of the weight: output features. */
  n: number;
  bits: number;
  blockSize: number;
}

export interface BlockQuantized extends BlockShape {
  /** ceil(k / blockSize); the last block is shorter when blockSize does not divide k. */
  blocks: number;
  /** codes[c·k + r] holds element (r, c): column by column, as MatMulNBits packs them. */
  codes: Uint8Array;
  /** scales[c·blocks + b], float32 values. Negative under the signed-max rule (see rtn.ts). */
  scales: Float32Array;
  /** zeroPoints[c·blocks + b], unsigned integers like the codes. */
  zeroPoints: Uint8Array;
}

/** An empty result of the given shape, for quantizers to fill. */
export function allocateBlocks(shape: BlockShape): BlockQuantized {
  const blocks = Math.ceil(shape.k / shape.blockSize);
  return {
    ...shape,
    blocks,
    codes: new Uint8Array(shape.k * shape.n),
    scales: new Float32Array(blocks * shape.n),
    zeroPoints: new Uint8Array(blocks * shape.n),
  };
}

/**
 * The weight's columns as rows ([N, K] from [K, N]): each block then is a contiguous run of `blockSize`
 * values, which every quantizer's inner loop walks many times.
 */
export function weightColumns(weight: Float32Array, k: number, n: number): Float32Array {
  if (weight.length !== k * n) {
    throw new RangeError(`a [${k}, ${n}] weight has ${k * n} elements, got ${weight.length}`);
  }
  const out = new Float32Array(k * n);
  for (let r = 0; r < k; r++) {
    const row = r * n;
    for (let c = 0, o = r; c < n; c++, o += k) out[o] = weight[row + c];
  }
  return out;
}

/**
 * The [K, N] float32 weight the quantized form stands for: (code − zero point) · scale, which is what
 * MatMulNBits and DequantizeLinear compute (the difference is a small integer, so the double product
 * rounded once to float32 is the float32 product).
 */
export function dequantizeBlocks(q: BlockQuantized): Float32Array {
  const { k, n, blockSize, blocks, codes, scales, zeroPoints } = q;
  const out = new Float32Array(k * n);
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < blocks; b++) {
      const p = c * blocks + b;
      const scale = scales[p];
      const zero = zeroPoints[p];
      const end = Math.min(k, (b + 1) * blockSize);
      for (let r = b * blockSize; r < end; r++) out[r * n + c] = (codes[c * k + r] - zero) * scale;
    }
  }
  return out;
}
