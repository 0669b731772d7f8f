/**
 * AWQ's scale search (Lin et al. 2023): input channels that see large activations matter more, so
 * before round-to-nearest the weight's rows are multiplied by s_k = mean|x_k|^α (and the input divided
 * by s, folded into whatever produces it), which gives those channels finer steps. Each block's
 * clipping range is searched too, as AWQ does (`awqClip`): the block's scale comes from r·(its range)
 * for r in 1, 0.95, …, 0.55, keeping per block the r with the smallest output error of that block's
 * inputs, d_bᵀ·G_bb·d_b with G_bb the block's diagonal part of the (rescaled) Gram matrix.
 *
 * α is searched on a grid over [0, 1] for the smallest output error of the layer, or of all layers
 * reading the same input (q/k/v projections), which must share one s:
 *
 *   err(α) = Σ_layers ‖X·W − X·diag(s)⁻¹·Q(diag(s)·W)‖² = Σ_columns dᵀ(XᵀX)d,
 *   d = W − diag(s)⁻¹·Q(diag(s)·W),
 *
 * over every calibration token, from the Gram matrix XᵀX alone (no activations are kept). Q is the
 * whole quantizer, clipping search included: AWQ's reference picks α for plain rounding and clips
 * afterwards, but scaling and clipping trade off against each other (on the bundled LLaMA-style model
 * the joint choice cuts RTN's perplexity gap by 40% instead of 29%). s is normalised to geometric mean 1
 * between its extremes (s / √(max·min)), as the reference implementation does. Plain round-to-nearest
 * is kept when nothing beats it on the calibration data.
 *
 * Evaluating these quadratic forms for every candidate is the heavy part and is handed to the caller
 * (`AwqEvaluator`), which runs it where it is fastest (ONNX Runtime: see bench/weight-only.ts).
 */
import {
  allocateBlocks,
  type BlockQuantized,
  type BlockShape,
  dequantizeBlocks,
  weightColumns,
} from './blocked-weight.js';
import { encodeValue, rtn, rtnBlockParams, type RtnRule } from './rtn.js';

/** One layer reading the shared input: its [K, n] float32 weight. */
export interface AwqLayer {
  weight: Float32Array;
  n: number;
}

/** The quadratic forms of the searches, for `count` candidates held one after another in `diffs`. */
export interface AwqEvaluator {
  /** Σ over columns of dᵀ·G·d per candidate; each candidate [K, n] row-major, `gram` K×K. */
  total(gram: Float32Array, k: number, diffs: Float32Array, n: number, count: number): Promise<Float64Array>;
  /**
   * d_bᵀ·G_b·d_b per candidate, block and column, as [count, blocks, n]: `grams` holds each block's
   * size×size Gram matrix, each candidate is [blocks·size, n] row-major.
   */
  perBlock(
    grams: Float32Array,
    blocks: number,
    size: number,
    diffs: Float32Array,
    n: number,
    count: number,
  ): Promise<Float32Array>;
}

export interface AwqSearch {
  bits: number;
  blockSize: number;
  rule: RtnRule;
  /** Grid points over [0, 1], both ends included. Default 11 (steps of 0.1). */
  grid?: number;
}

export interface AwqResult {
  /** The chosen exponent; 0 means no scaling. */
  alpha: number;
  /** s per input channel (float32 values); all ones when α = 0. */
  scales: Float32Array;
  /** Each layer's weight multiplied by s and rounded within its chosen clipping ranges. */
  quantized: BlockQuantized[];
  /** Output error of plain round-to-nearest and of the result, for reports. */
  rtnError: number;
  error: number;
}

/** Candidate values per call of `loss`: bounds the memory of one evaluation (64 MB of float32). */
const LOSS_BATCH_VALUES = 1 << 24;

export async function awqSearch(
  layers: readonly AwqLayer[],
  k: number,
  gram: Float64Array,
  absMean: Float64Array,
  spec: AwqSearch,
  evaluator: AwqEvaluator,
): Promise<AwqResult> {
  const grid = spec.grid ?? 11;
  const n = layers.reduce((sum, l) => sum + l.n, 0);
  const g32 = Float32Array.from(gram);
  const error = async (s: Float32Array, quantized: readonly BlockQuantized[]) => {
    const diffs = new Float32Array(k * n);
    let col = 0;
    layers.forEach(({ weight, n: width }, i) => {
      const deq = dequantizeBlocks(quantized[i]);
      for (let r = 0; r < k; r++) {
        const inv = 1 / s[r];
        for (let c = 0; c < width; c++)
          diffs[r * n + col + c] = weight[r * width + c] - deq[r * width + c] * inv;
      }
      col += width;
    });
    return (await evaluator.total(g32, k, diffs, n, 1))[0];
  };
  const ones = new Float32Array(k).fill(1);
  const plain = layers.map(({ weight, n: width }) =>
    rtn(weight, { k, n: width, bits: spec.bits, blockSize: spec.blockSize }, spec.rule),
  );
  const rtnError = await error(ones, plain);
  let best: AwqResult = { alpha: 0, scales: ones, quantized: plain, rtnError, error: rtnError };
  for (let i = 0; i < grid; i++) {
    const alpha = grid === 1 ? 0 : i / (grid - 1);
    const s = channelScales(absMean, alpha);
    const quantized: BlockQuantized[] = [];
    for (const { weight, n: width } of layers) {
      const shape = { k, n: width, bits: spec.bits, blockSize: spec.blockSize };
      const scaled = scaleRows(weight, k, width, s);
      const ratios = await awqClip(scaled, shape, gram, s, spec.rule, evaluator);
      quantized.push(clippedRtn(scaled, shape, spec.rule, ratios));
    }
    const e = await error(s, quantized);
    if (e < best.error) best = { alpha, scales: s, quantized, rtnError, error: e };
  }
  return best;
}

/** s = mean|x|^α, normalised by √(max·min); float32 values, as the rewritten model stores them. */
export function channelScales(absMean: Float64Array, alpha: number): Float32Array {
  const s = new Float64Array(absMean.length);
  let max = 0;
  let min = Infinity;
  for (let i = 0; i < s.length; i++) {
    // The floor keeps channels that never fire from getting a zero (or infinite) scale.
    s[i] = Math.max(absMean[i], 1e-4) ** alpha;
    if (s[i] > max) max = s[i];
    if (s[i] < min) min = s[i];
  }
  const norm = Math.sqrt(max * min);
  return Float32Array.from(s, (v) => v / norm);
}

/** The rows of `weight` ([K, n]) multiplied by s, in float32. */
export function scaleRows(weight: Float32Array, k: number, n: number, s: Float32Array): Float32Array {
  const out = new Float32Array(k * n);
  for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) out[r * n + c] = weight[r * n + c] * s[r];
  return out;
}

/** Clipping ratios tried per block, as AWQ's reference: 1 − i/20 for i = 0 … 9. */
const CLIP_RATIOS = Array.from({ length: 10 }, (_, i) => 1 - i / 20);

/**
 * The clipping ratio per (column, block) of the [K, n] weight `scaled` (already multiplied by s) that
 * minimises its block's output error; `gram` is XᵀX of the unscaled input and `s` the channel scales
 * (the scaled layer reads x / s). Returns ratios[c·blocks + b].
 */
export async function awqClip(
  scaled: Float32Array,
  shape: BlockShape,
  gram: Float64Array,
  s: Float32Array,
  rule: RtnRule,
  evaluator: AwqEvaluator,
): Promise<Float32Array> {
  const { k, n, blockSize } = shape;
  const blocks = Math.ceil(k / blockSize);
  const rows = blocks * blockSize;
  const grams = new Float32Array(blocks * blockSize * blockSize);
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < blockSize; i++) {
      const r = b * blockSize + i;
      if (r >= k) break;
      for (let j = 0; j < blockSize && b * blockSize + j < k; j++) {
        const c = b * blockSize + j;
        grams[(b * blockSize + i) * blockSize + j] = gram[r * k + c] / (s[r] * s[c]);
      }
    }
  }
  const best = new Float32Array(n * blocks).fill(Infinity);
  const ratios = new Float32Array(n * blocks).fill(1);
  const perCall = Math.max(1, Math.floor(LOSS_BATCH_VALUES / (rows * n)));
  for (let start = 0; start < CLIP_RATIOS.length; start += perCall) {
    const batch = CLIP_RATIOS.slice(start, start + perCall);
    const diffs = new Float32Array(batch.length * rows * n);
    batch.forEach((ratio, i) => {
      const deq = dequantizeBlocks(clippedRtn(scaled, shape, rule, new Float32Array(n * blocks).fill(ratio)));
      for (let j = 0; j < k * n; j++) diffs[i * rows * n + j] = scaled[j] - deq[j];
    });
    const errors = await evaluator.perBlock(grams, blocks, blockSize, diffs, n, batch.length);
    batch.forEach((ratio, i) => {
      for (let b = 0; b < blocks; b++) {
        for (let c = 0; c < n; c++) {
          const e = errors[(i * blocks + b) * n + c];
          const p = c * blocks + b;
          if (e < best[p]) {
            best[p] = e;
            ratios[p] = ratio;
          }
        }
      }
    });
  }
  return ratios;
}

/**
 * Round-to-nearest with each block's range shrunk by its ratio (ratios[c·blocks + b]): the scale and
 * zero point come from the block's values times the ratio, and values beyond that range clip.
 */
export function clippedRtn(
  weight: Float32Array,
  shape: BlockShape,
  rule: RtnRule,
  ratios: Float32Array,
): BlockQuantized {
  const q = allocateBlocks(shape);
  const { k, n, bits, blockSize, blocks } = q;
  const columns = weightColumns(weight, k, n);
  const shrunk = new Float32Array(blockSize);
  const qmax = 2 ** bits - 1;
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < blocks; b++) {
      const from = c * k + b * blockSize;
      const to = Math.min(from + blockSize, c * k + k);
      const p = c * blocks + b;
      for (let i = from; i < to; i++) shrunk[i - from] = columns[i] * ratios[p];
      rtnBlockParams(shrunk, 0, to - from, rule, bits, q, p);
      for (let i = from; i < to; i++)
        q.codes[i] = encodeValue(columns[i], q.scales[p], q.zeroPoints[p], qmax);
    }
  }
  return q;
}
