// Optimiser steps and learning-rate schedules against values worked out by hand from the update rules
// (torch.optim.SGD / Adam / AdamW, written out in the comments).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adam } from '../../src/training/optim/adam.js';
import type { Parameter } from '../../src/training/optim/optimizer.js';
import { Sgd } from '../../src/training/optim/sgd.js';
import { learningRate } from '../../src/training/schedule.js';

const param = (values: number[], decay = true): Parameter => ({
  name: 'w',
  shape: [values.length],
  data: Float32Array.from(values),
  decay,
});
const grads = (values: number[]) => new Map([['w', Float32Array.from(values)]]);
const close = (actual: number, expected: number, tol = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} ≠ ${expected}`);

test('SGD with momentum 0.9 and weight decay 0.1, lr 0.1', () => {
  const p = param([1]);
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 0.1 });
  // g = 0.5 + 0.1·1 = 0.6, b = g = 0.6, p = 1 − 0.1·0.6 = 0.94
  sgd.step([p], grads([0.5]), 0.1);
  close(p.data[0], 0.94);
  // g = 0.5 + 0.1·0.94 = 0.594, b = 0.9·0.6 + 0.594 = 1.134, p = 0.94 − 0.1134 = 0.8266
  sgd.step([p], grads([0.5]), 0.1);
  close(p.data[0], 0.8266);
  assert.equal(sgd.steps, 2);
});

test('SGD skips weight decay for parameters marked decay: false', () => {
  const p = param([2], false);
  new Sgd({ momentum: 0, weightDecay: 0.5 }).step([p], grads([1]), 0.1);
  close(p.data[0], 1.9);
});

test('Adam: bias-corrected moments over two steps', () => {
  const p = param([1]);
  const adam = new Adam();
  // m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25; p = 1 − 0.1·0.5/(0.5 + 1e-8)
  adam.step([p], grads([0.5]), 0.1);
  close(p.data[0], 0.9);
  // m = 0.9·0.05 + 0.1·0.25 = 0.07, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225;
  // m̂ = 0.07/0.19 = 0.3684211, v̂ = 0.00031225/0.001999 = 0.1562031, √v̂ = 0.3952254;
  // p = 0.9 − 0.1·0.3684211/0.3952254 = 0.8067819
  adam.step([p], grads([0.25]), 0.1);
  close(p.data[0], 0.8067819);
});

test('Adam L2 decay goes through the moments; AdamW decays the weight directly', () => {
  const l2 = param([1, 1]);
  // Adam: g = [0.5 + 0.1, −0.5 + 0.1]; the first step is lr·sign(g) whatever its size: [0.9, 1.1]
  new Adam({ weightDecay: 0.1 }).step([l2], grads([0.5, -0.5]), 0.1);
  close(l2.data[0], 0.9);
  close(l2.data[1], 1.1);
  // AdamW: p·(1 − lr·λ) − lr·sign(g) = 0.99 ∓ 0.1
  const w = param([1, 1]);
  new Adam({ weightDecay: 0.1, decoupled: true }).step([w], grads([0.5, -0.5]), 0.1);
  close(w.data[0], 0.89);
  close(w.data[1], 1.09);
});

test('optimiser state round-trips: a restored optimiser continues identically', () => {
  const a = param([1, -2]);
  const adam = new Adam({ weightDecay: 0.01, decoupled: true });
  adam.step([a], grads([0.3, -0.1]), 0.01);
  const b = param([...a.data]);
  const resumed = new Adam({ weightDecay: 0.01, decoupled: true });
  resumed.restore(adam.state(), adam.steps);
  adam.step([a], grads([0.2, 0.4]), 0.01);
  resumed.step([b], grads([0.2, 0.4]), 0.01);
  assert.deepEqual([...b.data], [...a.data]);
});

test('schedules: warm-up, cosine, step', () => {
  const cos = { kind: 'cosine' as const, lr: 1, totalSteps: 11, warmupSteps: 2, minLr: 0.1 };
  close(learningRate(cos, 0), 0.5);
  close(learningRate(cos, 1), 1);
  close(learningRate(cos, 2), 1);
  // halfway through the 9 decay steps (t = 4 of 8): 0.1 + 0.9·0.5·(1 + cos(π/2)) = 0.55
  close(learningRate(cos, 6), 0.55);
  close(learningRate(cos, 10), 0.1);
  const step = { kind: 'step' as const, lr: 1, totalSteps: 100, stepSize: 10, gamma: 0.5 };
  close(learningRate(step, 9), 1);
  close(learningRate(step, 10), 0.5);
  close(learningRate(step, 25), 0.25);
  close(learningRate({ kind: 'constant', lr: 0.3, totalSteps: 5 }, 4), 0.3);
});
