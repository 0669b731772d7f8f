/**
 * `npm run eval:training [qat|train] [options]`: the training engine's long evaluations on the bundled
 * Fashion-MNIST CNN with the full training split (Debian's dataset-fashion-mnist), too long for tests.
 *
 *   qat   [--steps N] [--batch B] [--variants plain,distill]
 *         4-bit per-channel weights / uint8 activations: PTQ, then QAT plain and with distillation from
 *         the FP32 model, same steps and data.
 *   train [--epochs E] [--batch B]  train from He initialisation; held-out top-1 after every epoch.
 *
 * Top-1 is measured in ONNX Runtime on the 2000 bundled test images (during training too) and on the
 * full 10k test split.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fashionMnist, MODELS } from '../examples/fmnist.js';
import { recordBatches } from '../src/data/batches.js';
import { requiredInputs } from '../src/data/model-inputs.js';
import { arraySampleSource } from '../src/data/sample-source.js';
import { evaluate } from '../src/evaluate/evaluate.js';
import { loadModel } from '../src/io/model-file.js';
import type { Model } from '../src/onnx/model.js';
import { quantize } from '../src/pipeline/quantize.js';
import { quantizeAwareTraining, type QatRequest } from '../src/training/qat.js';
import { trainModel } from '../src/training/train-model.js';
import type { TrainData } from '../src/training/train-data.js';
import type { TrainLog } from '../src/training/trainer.js';
import { describeMachine, peakRss } from './env.js';
import {
  DATASET_DIR,
  fashionMnistTestSet,
  fashionMnistTrainSet,
  hasFullDataset,
} from './fmnist-train-set.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '300' },
    epochs: { type: 'string', default: '6' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string' },
    seed: { type: 'string', default: '0' },
    variants: { type: 'string', default: 'plain,distill' },
  },
});
const what = positionals[0] ?? 'qat';
if (!hasFullDataset()) {
  console.error(
    `needs Debian's dataset-fashion-mnist (${DATASET_DIR}): apt-get install dataset-fashion-mnist`,
  );
  process.exit(1);
}

function toData(s: { x: TrainData['inputs'][string]; labels: Int32Array }): TrainData {
  return { inputs: { input: s.x }, labels: s.labels };
}

async function top1(model: Model, d: TrainData): Promise<number> {
  const r = await evaluate(model, recordBatches(d.inputs, 500), { labels: d.labels, latency: false });
  return r.accuracy!;
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);
const log = (prefix: string) => (e: TrainLog) =>
  console.log(
    `${prefix} step ${e.step} (epoch ${e.epoch.toFixed(2)}): loss ${e.loss.toFixed(4)}, train ${pct(e.trainAccuracy)}` +
      `${e.evalAccuracy === undefined ? '' : `, test ${pct(e.evalAccuracy)}`}, ${e.seconds.toFixed(0)} s`,
  );

console.log(describeMachine());
const train = toData(fashionMnistTrainSet());
const bundledTest = toData(fashionMnist('test'));
const fullTest = toData(fashionMnistTestSet());
const both = async (m: Model) =>
  `bundled test ${pct(await top1(m, bundledTest))}, full test ${pct(await top1(m, fullTest))}`;
const fp32 = loadModel(join(MODELS, 'fmnist_cnn.onnx'));
const batch = Number(values.batch);

if (what === 'qat') {
  const steps = Number(values.steps);
  console.log(
    `\n## QAT: fmnist_cnn, int4 per-channel weights, uint8 activations, ${steps} steps of ${batch}`,
  );
  console.log(`FP32: ${await both(fp32)}`);
  const calibration = arraySampleSource({ input: fashionMnist('calib').x }, requiredInputs(fp32.graph));
  const ptq = await quantize(fp32, { calibration, weightType: 'int4', perChannel: true });
  console.log(`PTQ int4: ${await both(ptq.model)}`);
  const base: QatRequest = {
    weightType: 'int4',
    perChannel: true,
    calibration,
    data: train,
    evalData: bundledTest,
    evalEvery: Math.max(1, Math.round(steps / 4)),
    batchSize: batch,
    steps,
    schedule: { kind: 'cosine', lr: Number(values.lr ?? 1e-4) },
    optimizer: { name: 'adam' },
    seed: Number(values.seed),
  };
  const variants = values.variants.split(',');
  const runs = [
    ...(variants.includes('plain') ? [undefined] : []),
    ...(variants.includes('distill') ? [{ alpha: 0.5, beta: 0.5, temperature: 4 }] : []),
  ];
  for (const distill of runs) {
    const name = distill ? 'QAT + distillation (α 0.5, β 0.5, T 4)' : 'QAT (cross-entropy)';
    const r = await quantizeAwareTraining(fp32, { ...base, distill, onLog: log(`  ${name}:`) });
    console.log(
      `${name}: exported model, ${await both(r.model)} ` +
        `(fake-quant ${pct(r.report.evalAccuracy)}), ${r.report.seconds.toFixed(0)} s, ` +
        `${r.report.samplesPerSecond.toFixed(1)} samples/s`,
    );
  }
} else if (what === 'train') {
  const epochs = Number(values.epochs);
  const perEpoch = Math.floor(train.labels.length / batch);
  console.log(
    `\n## Train fmnist_cnn from He initialisation: ${epochs} epochs of ${perEpoch} steps (batch ${batch})`,
  );
  const r = await trainModel(fp32, {
    init: 'he',
    data: train,
    evalData: bundledTest,
    evalEvery: Math.round(perEpoch / 4),
    batchSize: batch,
    steps: epochs * perEpoch,
    schedule: { kind: 'cosine', lr: Number(values.lr ?? 3e-3), warmupSteps: Math.round(perEpoch / 2) },
    optimizer: { name: 'adamw', weightDecay: 1e-4 },
    horizontalFlip: true,
    seed: Number(values.seed),
    onLog: log('  '),
  });
  console.log(
    `trained: ${await both(r.model)} (reference 93.25% / 92.47%), ${r.report.seconds.toFixed(0)} s, ` +
      `${r.report.samplesPerSecond.toFixed(1)} samples/s`,
  );
} else {
  throw new Error(`unknown evaluation '${what}' (qat or train)`);
}
console.log(`peak RSS: ${(peakRss() / 2 ** 20).toFixed(0)} MiB`);
