/**
 * Weight-only quantization (issue 4):
 * - the layer statistics GPTQ and AWQ need, XᵀX over [rows, K] activations, computed by typed-array
 *   loops (float64, blocked, four partial sums) against a MatMul run by ONNX Runtime (float32 per
 *   batch, what layer-inputs.ts does), both on one thread;
 * - AWQ's candidate errors Σ dᵀ·G·d, float64 loops against ONNX Runtime (gram-loss-model.ts);
 * - quantization time per million weights of the bundled tiny LM for rtn, hqq, awq and gptq (the
 *   calibrated ones on 32 windows, calibration passes included), and each one's held-out perplexity.
 */
import { join } from 'node:path';
import { requiredInputs } from '../src/data/model-inputs.js';
import { openSampleSource } from '../src/data/sample-source.js';
import { evaluate } from '../src/evaluate/evaluate.js';
import { loadModel } from '../src/io/model-file.js';
import { Attribute } from '../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../src/onnx/builders.js';
import { Node } from '../src/onnx/node.js';
import { makeValueInfo } from '../src/onnx/value-info.js';
import { GRAM_LOSS_IO, gramLossModel } from '../src/passes/weight-only/gram-loss-model.js';
import { quantize } from '../src/pipeline/quantize.js';
import { Runner } from '../src/runtime/session.js';
import { median } from './env.js';

const EXAMPLES = join(import.meta.dirname, '..', 'examples');

export async function benchWeightOnly(): Promise<void> {
  console.log('\n## Weight-only: XᵀX of [2048, K] activations, one thread (ONNX Runtime: median of 3)');
  console.log('| K | typed arrays ms | ONNX Runtime ms | ratio |');
  console.log('|---|---|---|---|');
  for (const k of [256, 768, 2048]) {
    const x = Float32Array.from({ length: 2048 * k }, () => Math.random() - 0.5);
    // One run: the loops take seconds, far above timing noise.
    const js = timed(() => gramLoops(x, k));
    const runner = await Runner.create(gramModel(k), { threads: 1, allowSpinning: false });
    const feeds = { x: { dtype: 'float32' as const, shape: [2048, k], data: x } };
    await runner.run(feeds);
    const ort: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await runner.run(feeds);
      ort.push(performance.now() - t);
    }
    await runner.release();
    console.log(
      `| ${k} | ${js.toFixed(0)} | ${median(ort).toFixed(1)} | ${(js / median(ort)).toFixed(1)}× |`,
    );
  }

  console.log('\n## Weight-only: AWQ candidate errors Σ dᵀGd, K 768, N 192, 20 candidates, one thread');
  const [k, n, count] = [768, 192, 20];
  const gram = Float32Array.from({ length: k * k }, () => Math.random());
  const diffs = Float32Array.from({ length: count * k * n }, () => Math.random() - 0.5);
  const js = timed(() => lossLoops(gram, k, diffs, n, count));
  const runner = await Runner.create(gramLossModel(), { threads: 1, allowSpinning: false });
  const feeds = {
    [GRAM_LOSS_IO.gram]: { dtype: 'float32' as const, shape: [k, k], data: gram },
    [GRAM_LOSS_IO.diffs]: { dtype: 'float32' as const, shape: [count, k, n], data: diffs },
  };
  await runner.run(feeds);
  const t = performance.now();
  await runner.run(feeds);
  const ort = performance.now() - t;
  await runner.release();
  console.log(
    `typed arrays ${js.toFixed(0)} ms, ONNX Runtime ${ort.toFixed(1)} ms → ${(js / ort).toFixed(1)}×`,
  );

  console.log('\n## Weight-only: bundled tiny LM, 4-bit blocks of 128, symmetric (calibration: 32 windows)');
  console.log('| algorithm | seconds | s per million weights | held-out perplexity | Δ vs FP32 |');
  console.log('|---|---|---|---|---|');
  const lm = loadModel(join(EXAMPLES, 'models', 'tiny_lm.onnx'));
  const heldout = await openSampleSource(join(EXAMPLES, 'data', 'lm-heldout.npy'), requiredInputs(lm.graph), {
    purpose: 'evaluation',
  });
  const perplexity = async (m: typeof lm) =>
    (await evaluate(m, heldout.batches(16), { task: 'lm', latency: false })).perplexity!;
  const fp32 = await perplexity(lm);
  for (const algorithm of ['rtn', 'hqq', 'awq', 'gptq'] as const) {
    const calibrated = algorithm === 'awq' || algorithm === 'gptq';
    const start = performance.now();
    const { model, report } = await quantize(lm, {
      mode: 'weight-only',
      bits: 4,
      blockSize: 128,
      algorithm,
      calibration: calibrated ? join(EXAMPLES, 'data', 'lm-calib.npy') : undefined,
      calibSamples: calibrated ? 32 : undefined,
    });
    const seconds = (performance.now() - start) / 1000;
    const weights = report.weightOnly!.floatBytes / 4 / 1e6;
    const p = await perplexity(model);
    console.log(
      `| ${algorithm} | ${seconds.toFixed(1)} | ${(seconds / weights).toFixed(2)} | ${p.toFixed(4)} | ` +
        `${(100 * (p / fp32 - 1)).toFixed(3)}% |`,
    );
  }
  lm.dispose();
}

function timed(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

/** XᵀX by loops: blocks of rows transposed so each entry is a dot product of contiguous runs. */
function gramLoops(x: Float32Array, k: number): Float64Array {
  const rows = x.length / k;
  const m = new Float64Array(k * k);
  const block = Math.max(1, Math.min(rows, Math.floor(32768 / k)));
  const t = new Float64Array(k * block);
  for (let r0 = 0; r0 < rows; r0 += block) {
    const count = Math.min(block, rows - r0);
    for (let r = 0; r < count; r++) for (let i = 0; i < k; i++) t[i * block + r] = x[(r0 + r) * k + i];
    for (let i = 0; i < k; i++) {
      const a = i * block;
      for (let j = i; j < k; j++) {
        const b = j * block;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let r = 0;
        for (; r + 3 < count; r += 4) {
          s0 += t[a + r] * t[b + r];
          s1 += t[a + r + 1] * t[b + r + 1];
          s2 += t[a + r + 2] * t[b + r + 2];
          s3 += t[a + r + 3] * t[b + r + 3];
        }
        for (; r < count; r++) s0 += t[a + r] * t[b + r];
        m[i * k + j] += s0 + s1 + s2 + s3;
      }
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) m[i * k + j] = m[j * k + i];
  return m;
}

/** Σ over columns of dᵀGd per candidate, by loops (row-wise G·d for contiguous access). */
function lossLoops(
  gram: Float32Array,
  k: number,
  diffs: Float32Array,
  n: number,
  count: number,
): Float64Array {
  const out = new Float64Array(count);
  const projected = new Float64Array(n);
  for (let a = 0; a < count; a++) {
    const d = a * k * n;
    for (let i = 0; i < k; i++) {
      projected.fill(0);
      for (let j = 0; j < k; j++) {
        const g = gram[i * k + j];
        for (let c = 0; c < n; c++) projected[c] += g * diffs[d + j * n + c];
      }
      for (let c = 0; c < n; c++) out[a] += diffs[d + i * n + c] * projected[c];
    }
  }
  return out;
}

function gramModel(k: number) {
  return makeModel(
    makeGraph({
      nodes: [
        new Node('Transpose', ['x'], ['xt'], { attributes: [Attribute.ints('perm', [1, 0])] }),
        new Node('MatMul', ['xt', 'x'], ['g']),
      ],
      inputs: [makeValueInfo('x', 'float32', ['rows', k])],
      outputs: [makeValueInfo('g', 'float32', [k, k])],
    }),
  );
}
