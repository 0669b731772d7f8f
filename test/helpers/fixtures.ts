/** Paths to the dev-time fixtures (scripts/fixtures) and running them in ONNX Runtime directly. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { parseNpz } from '../../src/tensor/npz.js';

export const MODELS = join(import.meta.dirname, '..', 'fixtures', 'models');

export function modelPath(name: string): string {
  return join(MODELS, name.endsWith('.onnx') ? name : `${name}.onnx`);
}

export function fixtureInputs(name: string): Record<string, NdArray> {
  return parseNpz(readFileSync(join(MODELS, `${name}.input.npz`)));
}

/**
 * Runs a model file in ONNX Runtime without going through quantkit's own loader or runner, so
 * results can serve as the reference that quantkit's output is compared against.
 */
export async function runFile(
  path: string,
  inputs: Record<string, NdArray>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'disabled',
    logSeverityLevel: 3,
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) {
      feeds[k] = new ort.Tensor(v.dtype as ort.Tensor.Type, v.data as ort.Tensor.DataType, v.shape);
    }
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Raw bytes of a result tensor, for bit-exact comparison (strings joined). */
export function tensorBytes(t: ort.Tensor): Uint8Array {
  if (t.type === 'string') return new TextEncoder().encode((t.data as string[]).join('\u0000'));
  const d = t.data as ArrayBufferView;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-test-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const r = fn(dir);
    if (r instanceof Promise) return r.finally(cleanup) as T;
    cleanup();
    return r;
  } catch (e) {
    cleanup();
    throw e;
  }
}
