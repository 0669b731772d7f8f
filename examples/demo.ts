/**
 * `npm run demo`: quantkit's main job on the bundled example — a residual CNN with BatchNorm trained on
 * Fashion-MNIST — quantized several ways, each result measured in ONNX Runtime on 2,000 test images
 * against the FP32 model: accuracy, size and speed. Then the bundled language model quantized
 * weight-only with each algorithm, by perplexity (lm-demo.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../src/cli/format.js';
import { arraySampleSource } from '../src/data/sample-source.js';
import { requiredInputs } from '../src/data/model-inputs.js';
import { evaluate } from '../src/evaluate/evaluate.js';
import { loadModel, saveModel } from '../src/io/model-file.js';
import type { Model } from '../src/onnx/model.js';
import { quantize, type QuantizeRequest } from '../src/pipeline/quantize.js';
import { recordBatches } from '../src/data/batches.js';
import { cpuFeatures } from '../src/runtime/latency.js';
import { fashionMnist, MODELS } from './fmnist.js';
import { languageModelTable } from './lm-demo.js';

const RUNS: { label: string; request: QuantizeRequest }[] = [
  { label: 'static QDQ · minmax (default)', request: {} },
  { label: 'static QDQ · percentile', request: { calibMethod: 'percentile' } },
  { label: 'static QDQ · entropy', request: { calibMethod: 'entropy' } },
  { label: 'static QDQ · mse', request: { calibMethod: 'mse' } },
  { label: 'static QOperator · minmax', request: { format: 'qoperator' } },
  { label: 'static QDQ · per-tensor weights', request: { perChannel: false } },
  { label: 'dynamic INT8', request: { mode: 'dynamic' } },
  { label: 'FP16', request: { mode: 'fp16' } },
];

const started = performance.now();
const fp32 = loadModel(join(MODELS, 'fmnist_cnn.onnx'));
const calib = fashionMnist('calib');
const test = fashionMnist('test');
const cpu = cpuFeatures();
console.log(
  `quantkit demo: Fashion-MNIST residual CNN, ${calib.labels.length} calibration / ${test.labels.length} test images`,
);
console.log(
  `machine: ${cpu.model} (${cpu.arch}; ${cpu.flags.join(' ') || 'no SIMD flags read'}), latency: batch 64, 1 thread\n`,
);

const dir = mkdtempSync(join(tmpdir(), 'quantkit-demo-'));
try {
  const rows: string[][] = [];
  const base = await measure(fp32);
  rows.push(['FP32 (original)', pct(base.accuracy), '', kb(base.bytes), '1.00×']);
  for (const { label, request } of RUNS) {
    const calibration = request.mode
      ? undefined
      : arraySampleSource({ input: calib.x }, requiredInputs(fp32.graph));
    const { model, report } = await quantize(fp32, { calibration, calibSamples: 1000, ...request });
    // What a user gets is the file: evaluate the saved model, not the in-memory one.
    const path = join(dir, `${rows.length}.onnx`);
    saveModel(model, path);
    const saved = loadModel(path);
    const r = await measure(saved, fp32);
    rows.push([
      label,
      pct(r.accuracy),
      signed(r.comparison!.accuracyDelta!),
      kb(r.bytes),
      `${r.comparison!.speedup!.toFixed(2)}×`,
    ]);
    saved.dispose();
    if (report.notes.some((n) => n.includes('stays in float')))
      console.log(`${label}: ${report.notes.filter((n) => n.includes('stays')).join('; ')}`);
  }
  console.log(table(rows, ['model', 'top-1', 'Δ vs FP32', 'size', 'speed vs FP32']));
  await languageModelTable(dir);
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
} finally {
  fp32.dispose();
  rmSync(dir, { recursive: true, force: true });
}

async function measure(model: Model, reference?: Model) {
  return evaluate(model, recordBatches({ input: test.x }, 250), {
    labels: test.labels,
    reference,
    batchSize: 64,
    latency: { runs: 20 },
  });
}

function pct(x: number | undefined): string {
  return x === undefined ? '?' : `${(x * 100).toFixed(2)}%`;
}

function signed(x: number): string {
  const pts = x * 100;
  return `${pts >= 0 ? '+' : ''}${pts.toFixed(2)} pt`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
