// `quantkit train` and `quantkit qat` as a user runs them: .npy data and labels in, a model out that
// ONNX Runtime runs; checkpoints on disk; bad input refused with a message naming what to fix.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { recordBatches } from '../../src/data/batches.js';
import { writeNpy } from '../../src/data/npy-file.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { loadCheckpoint } from '../../src/io/checkpoint-file.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { runCli } from '../helpers/cli.js';
import { tinyClassifier, tinyData } from './tiny-classifier.js';

let dir = '';
const path = (name: string) => join(dir, name);
const heldOut = tinyData(60, 2);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quantkit-train-cli-'));
  saveModel(tinyClassifier(), path('tiny.onnx'));
  const train = tinyData(96, 1);
  await writeNpy(path('x.npy'), train.inputs.input);
  await writeNpy(path('y.npy'), { dtype: 'int32', shape: [96], data: train.labels });
  await writeNpy(path('x_eval.npy'), heldOut.inputs.input);
  await writeNpy(path('y_eval.npy'), { dtype: 'int32', shape: [60], data: heldOut.labels });
  await writeNpy(path('y_short.npy'), { dtype: 'int32', shape: [10], data: train.labels.subarray(0, 10) });
});

after(() => rmSync(dir, { recursive: true, force: true }));

const data = () =>
  [
    '--train-data',
    'x.npy',
    '--train-labels',
    'y.npy',
    '--eval-data',
    'x_eval.npy',
    '--eval-labels',
    'y_eval.npy',
  ].map((a) => (a.endsWith('.npy') ? path(a) : a));

test('quantkit train from He initialisation writes a model ONNX Runtime runs', async () => {
  const r = runCli([
    'train',
    path('tiny.onnx'),
    '-o',
    path('trained.onnx'),
    ...data(),
    '--init',
    'he',
    '--steps',
    '24',
    '--batch',
    '16',
    '--lr',
    '0.01',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.steps, 24);
  assert.ok(report.evalAccuracy >= 0.95, r.stdout);
  const measured = await evaluate(loadModel(path('trained.onnx')), recordBatches(heldOut.inputs, 30), {
    labels: heldOut.labels,
    latency: false,
  });
  assert.equal(measured.accuracy, report.evalAccuracy);
});

test('quantkit qat writes a Q/DQ model and a checkpoint', async () => {
  const r = runCli([
    'qat',
    path('tiny.onnx'),
    '-o',
    path('qat.onnx'),
    ...data(),
    '--steps',
    '2',
    '--batch',
    '16',
    '--weight-type',
    'int4',
    '--distill',
    '--checkpoint',
    path('run.npz'),
    '--checkpoint-every',
    '1',
    '--quiet',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /int4 weights per channel, uint8 activations, scales lsq, distilled/);
  const model = loadModel(path('qat.onnx'));
  assert.ok(model.graph.nodes.some((n) => n.opType === 'QuantizeLinear'));
  assert.ok(!model.graph.nodes.some((n) => n.opType === 'FakeQuant'));
  const measured = await evaluate(model, recordBatches(heldOut.inputs, 30), {
    labels: heldOut.labels,
    latency: false,
  });
  assert.ok(measured.accuracy !== undefined);
  assert.equal(loadCheckpoint(path('run.npz')).step, 2);
});

test('bad input is refused with a message saying what to do', () => {
  const binary = runCli([
    'qat',
    path('tiny.onnx'),
    '-o',
    path('b.onnx'),
    ...data(),
    '--weight-type',
    'binary',
  ]);
  assert.equal(binary.status, 1);
  assert.match(binary.stderr, /binary is not available.*use ternary/);
  const short = runCli([
    'train',
    path('tiny.onnx'),
    '-o',
    path('s.onnx'),
    '--train-data',
    path('x.npy'),
    '--train-labels',
    path('y_short.npy'),
  ]);
  assert.equal(short.status, 1);
  assert.match(short.stderr, /y_short\.npy.*10 labels/);
  assert.ok(!existsSync(path('s.onnx')));
});
