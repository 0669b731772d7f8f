/**
 * Training throughput of the bundled Fashion-MNIST CNN at batch 64: one forward + backward run of the
 * trainer's step model (batch-statistics BatchNorm, cross-entropy loss, gradients of every weight,
 * batch statistics and logits as outputs) against
 * forward-only inference of the same model, both in onnxruntime-node with one thread, interleaved.
 * The ratio is the cost of a training step relative to inference (expected ~3×), and the peak RSS
 * is that of this process after both sessions ran.
 */
import { join } from 'node:path';
import { loadModel } from '../src/io/model-file.js';
import { parametersToInputs } from '../src/autodiff/parameters.js';
import { cloneModel } from '../src/onnx/clone.js';
import { type RuntimeArray, Runner } from '../src/runtime/session.js';
import type { NdArray } from '../src/tensor/ndarray.js';
import { sliceAxis0 } from '../src/tensor/ndarray.js';
import { buildTrainingGraph } from '../src/training/training-graph.js';
import { fashionMnist, MODELS } from '../examples/fmnist.js';
import { median, peakRss } from './env.js';

const BATCH = 64;
const RUNS = 30;

export async function benchTraining(): Promise<void> {
  const fp32 = loadModel(join(MODELS, 'fmnist_cnn.onnx'));
  const data = fashionMnist('test');
  const x = sliceAxis0(data.x, 0, BATCH);
  const classes = 10;
  const onehot = new Float32Array(BATCH * classes);
  for (let i = 0; i < BATCH; i++) onehot[i * classes + data.labels[i]] = 1;

  const input = fp32.graph.inputs[0].name;
  const batchNormStatistics = new Set(
    fp32.graph.nodes.filter((n) => n.opType === 'BatchNormalization').flatMap((n) => n.inputs.slice(3)),
  );
  const parameters = [...fp32.graph.initializers.values()]
    .filter((t) => t.dtype === 'float32' && !batchNormStatistics.has(t.name))
    .map((t) => t.name);
  const opts = { threads: 1, allowSpinning: false };
  const weights: Record<string, NdArray> = {};
  for (const p of parameters) {
    const t = fp32.graph.initializers.get(p)!;
    weights[p] = { dtype: 'float32', shape: [...t.dims], data: t.data() } as NdArray;
  }
  // Inference with the weights fed as inputs, as a training step gets them: ONNX Runtime then can
  // neither fold BatchNorm into Conv nor prepack the weights.
  const fed = cloneModel(fp32);
  parametersToInputs(fed.graph, [...fp32.graph.initializers.keys()]);
  const allWeights: Record<string, RuntimeArray> = {};
  for (const t of fp32.graph.initializers.values()) {
    allWeights[t.name] = { dtype: t.dtype, shape: [...t.dims], data: t.data() } as NdArray;
  }
  const timed: { label: string; runner: Runner; feeds: Record<string, RuntimeArray>; ms: number[] }[] = [
    { label: 'inference', runner: await Runner.create(fp32, opts), feeds: { [input]: x }, ms: [] },
    {
      label: 'inference, weights fed as inputs',
      runner: await Runner.create(fed, opts),
      feeds: { [input]: x, ...allWeights },
      ms: [],
    },
  ];
  for (const batchNormTraining of [true, false]) {
    const started = performance.now();
    const { model: step, loss } = buildTrainingGraph(fp32, {
      logits: fp32.graph.outputs[0].name,
      loss: { kind: 'cross-entropy' },
      parameters,
      batchNormTraining,
    });
    const mode = batchNormTraining ? 'batch-statistics BN' : 'frozen BN';
    console.log(
      `${mode}: gradient model of ${step.graph.nodes.length} nodes (forward ${fp32.graph.nodes.length}), ` +
        `${parameters.length} parameters, built in ${(performance.now() - started).toFixed(0)} ms`,
    );
    // The step model's forward part alone: what the backward pass adds to it is the other ratio.
    const stepForward = cloneModel(step);
    stepForward.graph.outputs = stepForward.graph.outputs.filter((o) => o.name === loss.loss);
    stepForward.graph.removeDeadNodes();
    const feeds: Record<string, RuntimeArray> = {
      [input]: x,
      [loss.target]: { dtype: 'float32', shape: [BATCH, classes], data: onehot },
      ...weights,
    };
    timed.push(
      { label: `${mode}, step forward part`, runner: await Runner.create(stepForward, opts), feeds, ms: [] },
      { label: `${mode}, forward + backward`, runner: await Runner.create(step, opts), feeds, ms: [] },
    );
  }
  for (let i = 0; i < RUNS + 5; i++) {
    for (const t of timed) {
      const t0 = performance.now();
      await t.runner.run(t.feeds);
      if (i >= 5) t.ms.push(performance.now() - t0);
    }
  }
  for (const t of timed) await t.runner.release();

  const [inference, fedInference, ...steps] = timed.map((t) => ({ label: t.label, ms: median(t.ms) }));
  console.log('\n## Training: bundled Fashion-MNIST CNN, batch 64, onnxruntime-node, 1 thread');
  for (const t of [inference, fedInference, ...steps]) {
    console.log(
      `${t.label.padEnd(40)} ${t.ms.toFixed(2).padStart(8)} ms/batch  ${((BATCH / t.ms) * 1000).toFixed(0).padStart(5)} images/s`,
    );
  }
  for (let k = 0; k < steps.length; k += 2) {
    const [part, whole] = [steps[k], steps[k + 1]];
    console.log(
      `${whole.label}: ${(whole.ms / inference.ms).toFixed(2)}× inference (expected ~3×), ` +
        `${(whole.ms / fedInference.ms).toFixed(2)}× inference with fed weights, ` +
        `${(whole.ms / part.ms).toFixed(2)}× its own forward part`,
    );
  }
  console.log(`peak RSS: ${(peakRss() / 2 ** 20).toFixed(0)} MiB`);
}
