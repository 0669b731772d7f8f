/**
 * Training data held in memory (one array per model input, samples along axis 0, and one class label
 * per sample), cut into shuffled mini-batches: each epoch is a fresh permutation drawn from a seeded
 * RNG, so a run, and a run resumed from a checkpoint, sees the same batches in the same order.
 */
import { QuantkitError } from '../errors.js';
import type { SampleSource } from '../data/sample-source.js';
import { elementArrayFor, type TypedArray } from '../tensor/dtype.js';
import { concatAxis0, elementCount, type NdArray } from '../tensor/ndarray.js';
import { createRng, type Rng } from '../tensor/random.js';

export interface TrainData {
  inputs: Record<string, NdArray>;
  labels: Int32Array;
}

export interface Batch {
  inputs: Record<string, NdArray>;
  labels: Int32Array;
}

/** Reads a whole sample source into memory (training needs random access) with its labels. */
export async function loadTrainData(source: SampleSource, labels: Int32Array): Promise<TrainData> {
  const parts: Record<string, NdArray[]> = {};
  for await (const batch of source.batches(1024)) {
    for (const [name, arr] of Object.entries(batch)) (parts[name] ??= []).push(arr);
  }
  const inputs = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, concatAxis0(v)]));
  const n = source.sampleCount;
  if (labels.length < n) {
    throw new QuantkitError(`the labels hold ${labels.length} classes for ${n} samples of '${source.path}'`);
  }
  return { inputs, labels: labels.subarray(0, n) };
}

export function sampleCount(d: TrainData): number {
  return d.labels.length;
}

/** Fisher–Yates permutation of 0..n−1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextFloat() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface BatcherOptions {
  batchSize: number;
  seed: number;
  /** Mirror each image left–right with probability ½ (inputs [N, C, H, W]). */
  horizontalFlip?: boolean;
}

/**
 * Full batches of shuffled samples (a last partial batch is dropped: a handful of samples would give
 * BatchNormalization noisy statistics); `batch(step)` is a pure function of the step.
 */
export class Batcher {
  readonly stepsPerEpoch: number;
  private readonly rng: Rng;
  private readonly flipRng: Rng;
  private epoch = -1;
  private order: Uint32Array = new Uint32Array(0);
  private readonly buffers: Record<string, NdArray>;
  private readonly labels: Int32Array;

  constructor(
    private readonly data: TrainData,
    private readonly opts: BatcherOptions,
  ) {
    const n = sampleCount(data);
    this.stepsPerEpoch = Math.floor(n / opts.batchSize);
    if (this.stepsPerEpoch === 0) {
      throw new QuantkitError(
        `the training data holds ${n} samples, fewer than one batch of ${opts.batchSize}`,
      );
    }
    this.rng = createRng(opts.seed);
    this.flipRng = createRng(opts.seed + 1);
    this.buffers = {};
    for (const [name, arr] of Object.entries(data.inputs)) {
      const shape = [opts.batchSize, ...arr.shape.slice(1)];
      this.buffers[name] = {
        dtype: arr.dtype,
        shape,
        data: new (elementArrayFor(arr.dtype))(elementCount(shape)),
      };
      if (opts.horizontalFlip && (arr.shape.length !== 4 || arr.dtype !== 'float32')) {
        throw new QuantkitError(
          `horizontal flips need float32 images [N, C, H, W]; input '${name}' is ${arr.dtype} [${arr.shape}]`,
        );
      }
    }
    this.labels = new Int32Array(opts.batchSize);
  }

  /** The batch of a given step; its arrays are reused by the next call. */
  batch(step: number): Batch {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    while (this.epoch < epoch) {
      this.order = permutation(sampleCount(this.data), this.rng);
      this.epoch++;
    }
    const start = (step % this.stepsPerEpoch) * this.opts.batchSize;
    const rows = this.order.subarray(start, start + this.opts.batchSize);
    for (const [name, arr] of Object.entries(this.data.inputs)) {
      gatherRows(arr, rows, this.buffers[name].data);
    }
    for (let i = 0; i < rows.length; i++) this.labels[i] = this.data.labels[rows[i]];
    if (this.opts.horizontalFlip) for (const b of Object.values(this.buffers)) this.flip(b);
    return { inputs: this.buffers, labels: this.labels };
  }

  private flip(b: NdArray): void {
    const [n, c, h, w] = b.shape;
    const d = b.data as Float32Array;
    for (let i = 0; i < n; i++) {
      if (this.flipRng.nextFloat() < 0.5) continue;
      for (let row = i * c * h; row < (i + 1) * c * h; row++) d.subarray(row * w, (row + 1) * w).reverse();
    }
  }
}

function gatherRows(arr: NdArray, rows: Uint32Array, out: TypedArray): void {
  const size = elementCount(arr.shape.slice(1));
  const src = arr.data as Float32Array;
  const dst = out as Float32Array;
  for (let i = 0; i < rows.length; i++) dst.set(src.subarray(rows[i] * size, (rows[i] + 1) * size), i * size);
}

/** One-hot rows [N, classes] from class ids; `smoothing` spreads that much mass evenly. */
export function oneHot(labels: Int32Array, classes: number, out: Float32Array, smoothing = 0): void {
  const off = smoothing / classes;
  out.fill(off);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c < 0 || c >= classes) {
      throw new QuantkitError(`label ${c} of sample ${i} is outside the model's ${classes} classes`);
    }
    out[i * classes + c] = 1 - smoothing + off;
  }
}
