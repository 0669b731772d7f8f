/** Running models built or changed by the prepare tests in ONNX Runtime, and comparing results. */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { Model } from '../../../src/onnx/model.js';
import { type RuntimeArray, Runner } from '../../../src/runtime/session.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { createRng } from '../../../src/tensor/random.js';

/** Runs with ONNX Runtime's graph optimizations off, so its own BatchNorm folding does not blur the comparison. */
export async function run(
  model: Model,
  feeds: Record<string, RuntimeArray>,
): Promise<Record<string, NdArray>> {
  const runner = await Runner.create(model, { optimization: 'disabled' });
  try {
    return (await runner.run(feeds)) as Record<string, NdArray>;
  } finally {
    await runner.release();
  }
}

export function assertIdentical(a: Record<string, NdArray>, b: Record<string, NdArray>): void {
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) {
    assert.equal(b[k].dtype, a[k].dtype, `${k}: dtype`);
    assert.deepEqual(b[k].shape, a[k].shape, `${k}: shape`);
    assert.deepEqual(b[k].data, a[k].data, `${k}: values differ`);
  }
}

/** max |a − b| / max |a| over every output. */
export function relativeError(a: Record<string, NdArray>, b: Record<string, NdArray>): number {
  let worst = 0;
  for (const k of Object.keys(a)) {
    assert.deepEqual(b[k].shape, a[k].shape, `${k}: shape`);
    const x = a[k].data as Float32Array;
    const y = b[k].data as Float32Array;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(x[i]));
    }
    assert.ok(scale > 0, `${k} is all zeros; the comparison would prove nothing`);
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

/** Uniform values in [lo, hi) from a seeded generator. */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.nextFloat();
  return out;
}

export function floats(shape: number[], seed: number, lo = -1, hi = 1): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: uniform(n, seed, lo, hi) };
}

/**
 * Runs a model file in ONNX Runtime directly. `prepack: false` turns off weight pre-packing: once
 * folding turns a computed LSTM/Conv weight into an initializer, ONNX Runtime pre-packs it and sums in
 * another order, so bit-exact comparisons of folded models need it off.
 */
export async function runFile(
  path: string,
  inputs: Record<string, NdArray>,
  opts: { prepack: boolean },
): Promise<Record<string, NdArray>> {
  const session = await ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'disabled',
    logSeverityLevel: 3,
    extra: { session: { disable_prepacking: opts.prepack ? '0' : '1' } },
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) {
      feeds[k] = new ort.Tensor(v.dtype as ort.Tensor.Type, v.data as ort.Tensor.DataType, v.shape);
    }
    const results = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(results).map(([k, t]) => [
        k,
        { dtype: t.type, shape: [...t.dims], data: t.data } as NdArray,
      ]),
    );
  } finally {
    await session.release();
  }
}
