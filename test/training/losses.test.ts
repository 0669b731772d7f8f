// The loss graphs run by ONNX Runtime against the formulas evaluated here in float64.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Node } from '../../src/onnx/node.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';
import { GraphEditor } from '../../src/training/graph-editor.js';
import { appendCrossEntropy } from '../../src/training/losses/cross-entropy.js';
import { appendDistillation } from '../../src/training/losses/distillation.js';
import type { LossGraph } from '../../src/training/losses/loss.js';
import { oneHot } from '../../src/training/train-data.js';

const N = 3;
const C = 4;
const logits = Float32Array.of(1, 2, 0.5, -1, 0, 0, 3, 1, -2, 4, 1, 0.5);
const teacher = Float32Array.of(2, 1, 0, -1, 0.5, 0, 2, 2, -1, 3, 2, 0);
const labels = Int32Array.of(1, 2, 0);

/** Identity model z → logits with the loss appended; returns the loss ONNX Runtime computes. */
async function runLoss(append: (e: GraphEditor) => LossGraph, opset: number): Promise<number> {
  const g = makeGraph({
    nodes: [new Node('Identity', ['z'], ['logits'])],
    inputs: [makeValueInfo('z', 'float32', ['N', C])],
    outputs: [makeValueInfo('logits', 'float32', ['N', C])],
  });
  const model = makeModel(g, { opsets: { '': opset } });
  const loss = append(new GraphEditor(model, 'loss_'));
  g.outputs.push(makeValueInfo(loss.loss, 'float32', []));
  const target = new Float32Array(N * C);
  oneHot(labels, C, target);
  const feeds: Parameters<Runner['run']>[0] = {
    z: { dtype: 'float32', shape: [N, C], data: logits },
    [loss.target]: { dtype: 'float32', shape: [N, C], data: target },
  };
  if (loss.teacherLogits) feeds[loss.teacherLogits] = { dtype: 'float32', shape: [N, C], data: teacher };
  const runner = await Runner.create(model);
  try {
    const out = await runner.run(feeds, [loss.loss]);
    assert.deepEqual(out[loss.loss].shape, []);
    return (out[loss.loss].data as Float32Array)[0];
  } finally {
    await runner.release();
  }
}

function softmax(z: ArrayLike<number>, row: number, t: number): number[] {
  const v = Array.from({ length: C }, (_, c) => z[row * C + c] / t);
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

const hard = () => -labels.reduce((acc, y, n) => acc + Math.log(softmax(logits, n, 1)[y]), 0) / N;

function soft(t: number): number {
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const p = softmax(teacher, n, t);
    const q = softmax(logits, n, t);
    for (let c = 0; c < C; c++) sum -= p[c] * Math.log(q[c]);
  }
  return sum / N;
}

for (const opset of [13, 17, 18]) {
  test(`cross-entropy with class labels (opset ${opset})`, async () => {
    const loss = await runLoss((e) => appendCrossEntropy(e, 'logits'), opset);
    assert.ok(Math.abs(loss - hard()) < 1e-6, `${loss} vs ${hard()}`);
  });
}

test('distillation: α·H(y, σ(z_s)) + β·T²·H(σ(z_t/T), σ(z_s/T))', async () => {
  const w = { alpha: 0.3, beta: 0.7, temperature: 4 };
  const loss = await runLoss((e) => appendDistillation(e, 'logits', w), 17);
  const expected = w.alpha * hard() + w.beta * w.temperature ** 2 * soft(w.temperature);
  assert.ok(Math.abs(loss - expected) < 1e-5 * expected, `${loss} vs ${expected}`);
});

test('distillation refuses a zero temperature and all-zero weights', () => {
  const model = makeModel(makeGraph({ nodes: [], inputs: [], outputs: [] }));
  const e = new GraphEditor(model, 'loss_');
  assert.throws(() => appendDistillation(e, 'z', { alpha: 1, beta: 1, temperature: 0 }), /temperature/);
  assert.throws(() => appendDistillation(e, 'z', { alpha: 0, beta: 0, temperature: 2 }), /alpha or beta/);
});
