/** The Silero VAD models shipped in the @ricky0123/vad-web npm package: real third-party graphs with control flow. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleSource } from '../../src/data/sample-source.js';
import type { Model } from '../../src/onnx/model.js';
import { Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { parseNpy } from '../../src/tensor/npy.js';

const DIST = join(import.meta.dirname, '..', '..', 'node_modules', '@ricky0123', 'vad-web', 'dist');
export const SILERO_V5 = join(DIST, 'silero_vad_v5.onnx');
export const SILERO_LEGACY = join(DIST, 'silero_vad_legacy.onnx');

/** One 512-sample frame (32 ms at 16 kHz) of a tone with noise, and a zero recurrent state. */
export function sileroInputs(): Record<string, NdArray> {
  const x = new Float32Array(512);
  for (let i = 0; i < x.length; i++)
    x[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) + 0.01 * Math.sin(i * 7.3);
  return {
    input: { dtype: 'float32', shape: [1, 512], data: x },
    state: { dtype: 'float32', shape: [2, 1, 128], data: new Float32Array(256) },
    sr: { dtype: 'int64', shape: [], data: BigInt64Array.of(16000n) },
  };
}

const FRAME = 512;

/** The espeak-ng speech clip of test/fixtures/audio (scripts/fixtures/make_speech.py), as float samples. */
export function speech(): Float32Array {
  const pcm = parseNpy(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'audio', 'speech16k.npy')));
  return Float32Array.from(pcm.data as Int16Array, (v) => v / 32768);
}

/** Runs the VAD over the clip frame by frame, carrying its recurrent state; one speech probability per frame. */
export async function vadProbabilities(
  model: Model,
  audio = speech(),
  onFrame?: (feeds: Record<string, NdArray>) => void,
): Promise<Float32Array> {
  const runner = await Runner.create(model, { threads: 1 });
  const frames = Math.floor(audio.length / FRAME);
  const probs = new Float32Array(frames);
  let state: Float32Array = new Float32Array(256);
  try {
    for (let f = 0; f < frames; f++) {
      const feeds: Record<string, NdArray> = {
        input: { dtype: 'float32', shape: [1, FRAME], data: audio.slice(f * FRAME, (f + 1) * FRAME) },
        state: { dtype: 'float32', shape: [2, 1, 128], data: state },
        sr: { dtype: 'int64', shape: [], data: BigInt64Array.of(16000n) },
      };
      onFrame?.(feeds);
      const out = await runner.run(feeds);
      probs[f] = (out.output.data as Float32Array)[0];
      state = out.stateN.data as Float32Array;
    }
  } finally {
    await runner.release();
  }
  return probs;
}

/**
 * Calibration samples for the VAD: real frames with the recurrent state the float model carried into
 * them. Its `state` input has the batch on axis 1, so these come one sample per batch — a source built
 * in code, which the library accepts wherever it takes a path.
 */
export async function vadCalibration(model: Model, frames = 120): Promise<SampleSource> {
  const samples: Record<string, NdArray>[] = [];
  await vadProbabilities(model, speech().subarray(0, frames * FRAME), (feeds) => samples.push(feeds));
  return {
    path: '<silero frames>',
    inputs: [],
    sampleCount: samples.length,
    totalSamples: samples.length,
    fixedBatchSize: 1,
    notes: [],
    async *batches() {
      yield* samples;
    },
  };
}
