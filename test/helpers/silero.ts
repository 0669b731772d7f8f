/** The Silero VAD models shipped in the @ricky0123/vad-web npm package: real third-party graphs with control flow. */
import { join } from 'node:path';
import type { NdArray } from '../../src/tensor/ndarray.js';

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
