/**
 * Verification in the target runtime after quantizing: the quantized model and the FP32 original run
 * side by side on a slice of the calibration data, in the runtime the target names. It reports what a
 * simulation cannot: which quantized layers ONNX Runtime actually fused into integer kernels (from the
 * optimized model it writes), whether INT8 is really faster, and how often the two models agree —
 * the "loads fine, silently worse" and "INT8 slower than FP32" failures, caught before shipping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleSource } from '../data/sample-source.js';
import { isQuantkitError } from '../errors.js';
import { evaluate } from '../evaluate/evaluate.js';
import { loadModel } from '../io/model-file.js';
import type { Model } from '../onnx/model.js';
import type { ProgressCallback } from '../progress.js';
import { type RuntimeOptions, Runner } from '../runtime/session.js';
import type { TargetProfile } from '../targets/profile.js';
import { tensorRtViolations } from '../targets/tensorrt-rules.js';
import type { NdArray } from '../tensor/ndarray.js';

export interface Verification {
  /** The runtime the checks ran in. */
  runtime: string;
  samples: number;
  /** Same top-1 as FP32 (fraction), for classifier-like outputs. */
  agreement?: number;
  sqnrDb?: number;
  /** INT8 time ÷ FP32 time inverted: above 1 is faster. */
  speedup?: number;
  batch?: number;
  /** Quantized Conv/MatMul/Gemm layers that ONNX Runtime's optimizer fused into integer kernels. */
  fused?: { fused: number; total: number; unfused: string[] };
  /** TensorRT target: rules the model breaks (empty: none). */
  tensorrt?: string[];
  warnings: string[];
}

export interface VerifyOptions {
  profile: TargetProfile;
  batchSize: number;
  /** Names of the quantized Conv/MatMul/Gemm nodes, to see which were fused. */
  quantizedLayers: readonly string[];
  /** Samples to run. Default 256. */
  samples?: number;
  runtime?: RuntimeOptions;
  onProgress?: ProgressCallback;
}

const FLOAT_KERNELS = new Set([
  'Conv',
  'FusedConv',
  'MatMul',
  'FusedMatMul',
  'Gemm',
  'FusedGemm',
  'ConvTranspose',
]);

export async function verifyQuantized(
  fp32: Model,
  quantized: Model,
  source: SampleSource,
  opts: VerifyOptions,
): Promise<Verification> {
  const wasm = opts.profile.runtime === 'ort-wasm';
  const runtime: RuntimeOptions = { ...opts.runtime, backend: wasm ? 'wasm' : 'native' };
  const result: Verification = {
    runtime: wasm ? 'onnxruntime-web (WebAssembly)' : 'onnxruntime-node (CPU)',
    samples: 0,
    warnings: [],
  };
  if (opts.profile.runtime === 'tensorrt') {
    result.runtime = 'onnxruntime-node (CPU; no TensorRT on this machine) + TensorRT rule check';
    result.tensorrt = tensorRtViolations(quantized);
    for (const v of result.tensorrt) result.warnings.push(`TensorRT: ${v}`);
  }
  if (!wasm) {
    result.fused = await fusedLayers(quantized, opts.quantizedLayers, runtime);
    const { unfused, total } = result.fused;
    if (unfused.length > 0 && opts.profile.runtime === 'ort-node') {
      result.warnings.push(
        `${unfused.length} of ${total} quantized layers were not fused into integer kernels and run in float: ` +
          `${unfused.slice(0, 8).join(', ')}${unfused.length > 8 ? ', …' : ''}`,
      );
    }
  }
  const batches = slice(source, opts.batchSize, opts.samples ?? 256);
  try {
    const e = await evaluate(quantized, batches, {
      reference: fp32,
      batchSize: opts.batchSize,
      runtime: { ...runtime, threads: 1 },
      // Timing TensorRT models in ONNX Runtime's CPU provider would say nothing about TensorRT.
      latency: opts.profile.runtime === 'tensorrt' ? false : { runs: 20 },
      onProgress: opts.onProgress,
    });
    Object.assign(result, {
      samples: e.samples,
      agreement: e.agreement,
      sqnrDb: e.sqnrDb,
      speedup: e.comparison?.speedup,
      batch: e.latencyMs?.batch,
    });
  } catch (err) {
    if (!isQuantkitError(err)) throw err;
    result.warnings.push(`could not compare with FP32 on the calibration data: ${err.message}`);
  }
  if (result.speedup !== undefined && result.speedup < 1) {
    result.warnings.push(
      `INT8 runs ${result.speedup.toFixed(2)}× the FP32 speed in ${result.runtime} at batch ${result.batch}: slower than FP32`,
    );
  }
  if (result.agreement !== undefined && result.agreement < 0.99) {
    result.warnings.push(
      `the quantized model agrees with FP32 on ${(result.agreement * 100).toFixed(1)}% of the samples (below 99%)`,
    );
  }
  return result;
}

/** Which of the quantized layers are still float kernels in ONNX Runtime's optimized graph. */
async function fusedLayers(
  model: Model,
  layers: readonly string[],
  runtime: RuntimeOptions,
): Promise<{ fused: number; total: number; unfused: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-verify-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const runner = await Runner.create(model, { ...runtime, optimizedModelPath: path });
    await runner.release();
    const optimized = loadModel(path);
    const floatNames = new Set<string>();
    for (const { node } of optimized.graph.walk())
      if (FLOAT_KERNELS.has(node.opType)) floatNames.add(node.name);
    optimized.dispose();
    const unfused = layers.filter((n) => floatNames.has(n));
    return { fused: layers.length - unfused.length, total: layers.length, unfused };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function* slice(
  source: SampleSource,
  batchSize: number,
  samples: number,
): AsyncGenerator<Record<string, NdArray>> {
  let seen = 0;
  for await (const batch of source.batches(batchSize)) {
    yield batch;
    seen += Object.values(batch).find((a) => a.shape.length > 0)?.shape[0] ?? 1;
    if (seen >= samples) return;
  }
}
