/**
 * The tensors of com.microsoft.MatMulNBits, as ONNX Runtime's docs/ContribOperators.md specifies them
 * and its kernel checks them (contrib_ops/cpu/quantization/matmul_nbits_helper.h):
 *
 * - B: uint8 [N, k_blocks, blob_size], k_blocks = ceil(K / block_size), blob_size = block_size·bits/8.
 *   Column n's codes along K, block by block, each packed from the lowest bits up (4-bit: first code in
 *   the low nibble). The last block is padded; padding holds the block's zero point (it dequantizes to
 *   0, as ONNX Runtime's quantizer does by padding the weight with zeros).
 * - scales: [N, k_blocks] in A's type (the 1-D [N·k_blocks] form is accepted "for backward
 *   compatibility" only).
 * - zero_points (optional): uint8 [N, ceil(k_blocks·bits/8)], block b of column n at bits b·bits of
 *   the column's row, packed like B; absent means 2^(bits−1) everywhere. (The same-type-as-A form holds
 *   float zero points; see algorithms/hqq.ts for why quantkit does not write it.)
 */
import type { BlockQuantized } from '../../algorithms/blocked-weight.js';

export interface NBitsShape {
  k: number;
  n: number;
  bits: number;
  blockSize: number;
}

export function nbitsBlocks(shape: NBitsShape): { blocks: number; blobSize: number; zeroPointBytes: number } {
  const blocks = Math.ceil(shape.k / shape.blockSize);
  return {
    blocks,
    blobSize: (shape.blockSize * shape.bits) / 8,
    zeroPointBytes: Math.ceil((blocks * shape.bits) / 8),
  };
}

/** The zero point MatMulNBits assumes when the input is absent. */
export function defaultZeroPoint(bits: number): number {
  return 2 ** (bits - 1);
}

/** B, packed. */
export function packNBitsWeight(q: BlockQuantized): Uint8Array {
  const { k, n, bits, blockSize, codes, zeroPoints } = q;
  const { blocks, blobSize } = nbitsBlocks(q);
  const out = new Uint8Array(n * blocks * blobSize);
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < blocks; b++) {
      const blob = (c * blocks + b) * blobSize;
      const first = b * blockSize;
      const zero = zeroPoints[c * blocks + b];
      for (let i = 0; i < blockSize; i++) {
        const r = first + i;
        const code = r < k ? codes[c * k + r] : zero;
        const bit = i * bits;
        out[blob + (bit >>> 3)] |= code << (bit & 7);
      }
    }
  }
  return out;
}

/** zero_points, packed, or undefined when every block has the default (the input can be left out). */
export function packNBitsZeroPoints(q: BlockQuantized): Uint8Array | undefined {
  const fallback = defaultZeroPoint(q.bits);
  if (q.zeroPoints.every((z) => z === fallback)) return undefined;
  const { blocks, zeroPointBytes } = nbitsBlocks(q);
  const perByte = 8 / q.bits;
  const out = new Uint8Array(q.n * zeroPointBytes);
  for (let c = 0; c < q.n; c++) {
    // Bits past the last block of a row are padding; they hold the default, as ONNX Runtime's 0x88.
    for (let slot = 0; slot < zeroPointBytes * perByte; slot++) {
      const z = slot < blocks ? q.zeroPoints[c * blocks + slot] : fallback;
      const bit = slot * q.bits;
      out[c * zeroPointBytes + (bit >>> 3)] |= z << (bit & 7);
    }
  }
  return out;
}

/**
 * The [K, N] float32 weight a MatMulNBits node multiplies by, from its B, scales and zero_points:
 * (code − zero point) · scale. For checking a model against ONNX Runtime and for tools reading one.
 */
export function dequantizeNBits(
  shape: NBitsShape,
  b: Uint8Array,
  scales: Float32Array,
  zeroPoints?: Uint8Array,
): Float32Array {
  const { k, n, bits, blockSize } = shape;
  const { blocks, blobSize, zeroPointBytes } = nbitsBlocks(shape);
  const zeroPointCount = zeroPoints ? zeroPoints.length : n * zeroPointBytes;
  if (
    b.length !== n * blocks * blobSize ||
    scales.length !== n * blocks ||
    zeroPointCount !== n * zeroPointBytes
  ) {
    throw new RangeError(
      `MatMulNBits K=${k} N=${n} bits=${bits} block_size=${blockSize} needs ${n * blocks * blobSize} ` +
        `bytes of B, ${n * blocks} scales and ${n * zeroPointBytes} zero-point bytes, got ${b.length}, ` +
        `${scales.length} and ${zeroPointCount}`,
    );
  }
  const mask = (1 << bits) - 1;
  const out = new Float32Array(k * n);
  for (let c = 0; c < n; c++) {
    for (let blk = 0; blk < blocks; blk++) {
      const zbit = blk * bits;
      const zero = zeroPoints
        ? (zeroPoints[c * zeroPointBytes + (zbit >>> 3)] >>> (zbit & 7)) & mask
        : defaultZeroPoint(bits);
      const scale = scales[c * blocks + blk];
      const blob = (c * blocks + blk) * blobSize;
      const end = Math.min(blockSize, k - blk * blockSize);
      for (let i = 0; i < end; i++) {
        const bit = i * bits;
        const code = (b[blob + (bit >>> 3)] >>> (bit & 7)) & mask;
        out[(blk * blockSize + i) * n + c] = (code - zero) * scale;
      }
    }
  }
  return out;
}
