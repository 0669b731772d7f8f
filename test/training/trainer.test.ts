// The training loop end to end on a tiny CNN: it learns, BatchNormalization's training form matches
// ONNX Runtime's own BatchNormalization, a run resumed from a checkpoint ends bit-identical to an
// uninterrupted one, and the trained model runs in ONNX Runtime.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordBatches } from '../../src/data/batches.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { Runner } from '../../src/runtime/session.js';
import { toTrainingForm } from '../../src/training/batchnorm.js';
import type { Checkpoint } from '../../src/training/checkpoint.js';
import { raiseForTraining } from '../../src/training/opset.js';
import { trainModel } from '../../src/training/train-model.js';
import { train, type TrainOptions } from '../../src/training/trainer.js';
import { tinyClassifier, tinyData } from './tiny-classifier.js';

const data = tinyData(96, 1);
const heldOut = tinyData(60, 2);

const options = (steps: number): TrainOptions => ({
  data,
  batchSize: 16,
  steps,
  schedule: { kind: 'constant', lr: 0.01 },
  optimizer: { name: 'adamw', weightDecay: 1e-4 },
  seed: 5,
});

test('training from He initialisation learns the tiny task', async () => {
  const { model, report } = await trainModel(tinyClassifier(), {
    ...options(24),
    init: 'he',
    evalData: heldOut,
  });
  assert.ok(report.history[0].trainAccuracy < 0.9, 'it starts near chance');
  assert.ok(report.evalAccuracy! >= 0.95, `held-out top-1 ${report.evalAccuracy}`);
  // The result is an ordinary inference model: ONNX Runtime agrees with the trainer's own evaluation.
  const again = await evaluate(model, recordBatches(heldOut.inputs, 32), {
    labels: heldOut.labels,
    latency: false,
  });
  assert.equal(again.accuracy, report.evalAccuracy);
  const bn = model.graph.nodes.find((n) => n.opType === 'BatchNormalization')!;
  assert.equal(bn.getInt('training_mode', 0), 0);
  const mean = model.graph.initializers.get('bn.mean')!.toFloat32();
  assert.ok(
    mean.some((v) => v !== 0),
    'running statistics were updated',
  );
});

test("training-form BatchNormalization equals ONNX Runtime's training_mode=1", async () => {
  const model = tinyClassifier();
  raiseForTraining(model, 'test model');
  const reference = cloneModel(model);
  const bnRef = reference.graph.nodes.find((n) => n.opType === 'BatchNormalization')!;
  bnRef.setAttribute(Attribute.int('training_mode', 1));
  bnRef.setOutputs(['n', 'running_mean', 'running_var']);
  const [state] = toTrainingForm(model);
  const x = { input: data.inputs.input };
  const ours = await Runner.create(model, { extraOutputs: ['n', state.batchMean, state.batchVariance] });
  // Graph optimizations off: ONNX Runtime's Conv+BatchNormalization fusion ignores training_mode.
  const theirs = await Runner.create(reference, {
    extraOutputs: ['n', 'running_mean', 'running_var'],
    optimization: 'disabled',
  });
  try {
    const a = await ours.run(x, ['n', state.batchMean, state.batchVariance]);
    const b = await theirs.run(x, ['n', 'running_mean', 'running_var']);
    const yA = a.n.data as Float32Array;
    const yB = b.n.data as Float32Array;
    for (let i = 0; i < yA.length; i++)
      assert.ok(Math.abs(yA[i] - yB[i]) < 1e-4, `y[${i}] ${yA[i]} vs ${yB[i]}`);
    // ONNX Runtime's running statistics start from mean 0, variance 1, with momentum 0.9, and take the
    // biased variance; ours is the unbiased one (as PyTorch keeps), × n/(n − 1) for n = 96·6·6.
    const n = 96 * 36;
    const mean = a[state.batchMean].data as Float32Array;
    const variance = a[state.batchVariance].data as Float32Array;
    const runningMean = b.running_mean.data as Float32Array;
    const runningVar = b.running_var.data as Float32Array;
    for (let c = 0; c < mean.length; c++) {
      assert.ok(Math.abs(0.1 * mean[c] - runningMean[c]) < 1e-6, `mean[${c}]`);
      const biased = (runningVar[c] - 0.9) / 0.1;
      assert.ok(Math.abs(variance[c] - (biased * n) / (n - 1)) < 1e-4 * variance[c], `variance[${c}]`);
    }
  } finally {
    await ours.release();
    await theirs.release();
  }
});

test('a run resumed from a checkpoint ends exactly where an uninterrupted run does', async () => {
  const straight = await train(tinyClassifier(), { ...options(8) });
  let saved: Checkpoint | undefined;
  await train(tinyClassifier(), {
    ...options(4),
    checkpointEvery: 4,
    onCheckpoint: (c) => {
      saved = c;
    },
  });
  const resumed = await train(tinyClassifier(), { ...options(8), resume: saved });
  for (const [name, values] of straight.parameters) {
    assert.deepEqual([...resumed.parameters.get(name)!], [...values], name);
  }
});

test('frozen BatchNormalization keeps its running statistics while the weights keep training', async () => {
  const saved: Checkpoint[] = [];
  await train(tinyClassifier(), {
    ...options(6),
    freezeBatchNormAfter: 3,
    checkpointEvery: 3,
    onCheckpoint: (c) => {
      saved.push(c);
    },
  });
  const [atFreeze, end] = saved;
  assert.deepEqual([...end.batchNorm.get('bn.mean')!], [...atFreeze.batchNorm.get('bn.mean')!]);
  assert.deepEqual([...end.batchNorm.get('bn.var')!], [...atFreeze.batchNorm.get('bn.var')!]);
  assert.notDeepEqual([...end.parameters.get('bn.g')!], [...atFreeze.parameters.get('bn.g')!]);
  assert.notDeepEqual([...end.parameters.get('conv.w')!], [...atFreeze.parameters.get('conv.w')!]);
});
