/**
 * Running a rewritten model next to its float original in ONNX Runtime and measuring how far apart
 * their outputs are; shared by the dynamic-quantization and float16 tests.
 */
import { encodeModel } from '../../../src/onnx/encode.js';
import type { Model } from '../../../src/onnx/model.js';
import type { RuntimeArray } from '../../../src/runtime/ort-tensor.js';
import { Runner } from '../../../src/runtime/session.js';
import { float16ArrayToFloat32 } from '../../../src/tensor/float16.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { createRng } from '../../../src/tensor/random.js';

export interface OutputDiff {
  cosine: number;
  maxAbsDiff: number;
  /** Largest |value| of the reference, to read maxAbsDiff against. */
  maxAbs: number;
}

/** Outputs of a model for each feed set, run in order in one session. */
export async function runModel(model: Model, feeds: readonly Record<string, RuntimeArray>[]) {
  const runner = await Runner.create(model);
  try {
    const out: Record<string, RuntimeArray>[] = [];
    for (const f of feeds) out.push(await runner.run(f));
    return out;
  } finally {
    await runner.release();
  }
}

/** A float output as float32 values (float16 outputs decoded). */
export function floats(a: RuntimeArray): Float32Array {
  if (a.dtype === 'float32') return a.data as Float32Array;
  if (a.dtype === 'float16') return float16ArrayToFloat32(a.data as Uint16Array);
  throw new Error(`not a float output: ${a.dtype}`);
}

export function outputDiff(reference: RuntimeArray, actual: RuntimeArray): OutputDiff {
  const a = floats(reference);
  const b = floats(actual);
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  let maxAbsDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
    maxAbs = Math.max(maxAbs, Math.abs(a[i]));
  }
  const cosine = na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
  return { cosine, maxAbsDiff, maxAbs };
}

/** Fraction of rows (of `rowLength` values) whose largest entry is at the same place in both. */
export function top1Agreement(reference: RuntimeArray, actual: RuntimeArray, rowLength: number): number {
  const a = floats(reference);
  const b = floats(actual);
  const rows = a.length / rowLength;
  let same = 0;
  for (let r = 0; r < rows; r++)
    if (argmax(a, r * rowLength, rowLength) === argmax(b, r * rowLength, rowLength)) same++;
  return same / rows;
}

function argmax(d: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (d[start + i] > d[start + best]) best = i;
  return best;
}

export function modelBytes(model: Model): number {
  return encodeModel(model).bytes;
}

const SAMPLE_RATE = 16000;
const CHUNK = 512;

/** `chunks` consecutive 512-sample chunks of a 440 Hz sine plus seeded white noise, at 16 kHz. */
export function sileroAudio(chunks: number, seed = 1): Float32Array[] {
  const rng = createRng(seed);
  const out: Float32Array[] = [];
  for (let c = 0; c < chunks; c++) {
    const x = new Float32Array(CHUNK);
    for (let i = 0; i < CHUNK; i++) {
      const t = (c * CHUNK + i) / SAMPLE_RATE;
      x[i] = 0.5 * Math.sin(2 * Math.PI * 440 * t) + 0.1 * (2 * rng.nextFloat() - 1);
    }
    out.push(x);
  }
  return out;
}

/**
 * Runs Silero VAD v5 (inputs input, state, sr) or legacy (input, sr, h, c) over the chunks from a zero
 * state, feeding each chunk the state the previous one returned; returns the speech probabilities.
 */
export async function runSilero(
  model: Model,
  audio: readonly Float32Array[],
  legacy: boolean,
): Promise<number[]> {
  const runner = await Runner.create(model);
  const f32 = (shape: number[], data: Float32Array): NdArray => ({ dtype: 'float32', shape, data });
  const sr: NdArray = { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(SAMPLE_RATE)) };
  let state: Record<string, NdArray> = legacy
    ? { h: f32([2, 1, 64], new Float32Array(128)), c: f32([2, 1, 64], new Float32Array(128)) }
    : { state: f32([2, 1, 128], new Float32Array(256)) };
  const probabilities: number[] = [];
  try {
    for (const chunk of audio) {
      const out = await runner.run({ input: f32([1, CHUNK], chunk), sr, ...state });
      probabilities.push(floats(out.output)[0]);
      state = legacy
        ? { h: f32([2, 1, 64], floats(out.hn)), c: f32([2, 1, 64], floats(out.cn)) }
        : { state: f32([2, 1, 128], floats(out.stateN)) };
    }
  } finally {
    await runner.release();
  }
  return probabilities;
}
