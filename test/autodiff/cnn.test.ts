import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toTrainingBatchNorm } from '../../src/autodiff/batchnorm-training.js';
import { buildGradientModel } from '../../src/autodiff/gradient-model.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { checkGradients, randomArray, tensorOf } from './gradient-check.js';

const BATCH = 6;
const CLASSES = 3;

/**
 * x[N,1,8,8] → Conv 3x3 (pads 1) → BatchNormalization → Relu → MaxPool 2x2 → Flatten → Gemm →
 * LogSoftmax → loss = −mean over the batch of the log-probability of each sample's class. The
 * network runs in float32 (ONNX Runtime has no float64 Conv); from the logits on it is float64, so
 * that the loss itself is not rounded to float32.
 */
function cnn(): Model {
  const r = (name: string, shape: number[], seed: number, lo = -0.5, hi = 0.5) =>
    tensorOf(name, randomArray('float32', shape, seed, lo, hi));
  const labels = new Float64Array(BATCH * CLASSES);
  for (let i = 0; i < BATCH; i++) labels[i * CLASSES + (i % CLASSES)] = 1;
  return makeModel(
    makeGraph({
      nodes: [
        new Node('Conv', ['x', 'w1', 'b1'], ['c'], {
          name: 'conv',
          attributes: [Attribute.ints('pads', [1, 1, 1, 1])],
        }),
        new Node('BatchNormalization', ['c', 'gamma', 'beta', 'mu', 'var'], ['bn'], { name: 'bn' }),
        new Node('Relu', ['bn'], ['h']),
        new Node('MaxPool', ['h'], ['p'], {
          attributes: [Attribute.ints('kernel_shape', [2, 2]), Attribute.ints('strides', [2, 2])],
        }),
        new Node('Flatten', ['p'], ['f']),
        new Node('Gemm', ['f', 'w2', 'b2'], ['logits'], { attributes: [Attribute.int('transB', 1)] }),
        new Node('Cast', ['logits'], ['logits64'], { attributes: [Attribute.int('to', 11)] }),
        new Node('LogSoftmax', ['logits64'], ['logp'], { attributes: [Attribute.int('axis', 1)] }),
        new Node('Mul', ['logp', 'onehot'], ['picked']),
        new Node('ReduceSum', ['picked'], ['total'], { attributes: [Attribute.int('keepdims', 0)] }),
        new Node('Mul', ['total', 'minus_mean'], ['loss']),
      ],
      inputs: [makeValueInfo('x', 'float32', ['N', 1, 8, 8])],
      outputs: [makeValueInfo('loss', 'float64', [])],
      initializers: [
        r('w1', [4, 1, 3, 3], 1, -0.6, 0.6),
        r('b1', [4], 2),
        r('gamma', [4], 3, 0.5, 1.5),
        r('beta', [4], 4),
        r('mu', [4], 5),
        r('var', [4], 6, 0.5, 1.5),
        r('w2', [CLASSES, 64], 7),
        r('b2', [CLASSES], 8),
        tensorOf('onehot', { dtype: 'float64', shape: [BATCH, CLASSES], data: labels }),
        tensorOf('minus_mean', { dtype: 'float64', shape: [], data: Float64Array.of(-1 / BATCH) }),
      ],
    }),
    { opsets: { '': 13 } },
  );
}

// b1 is left out: batch normalisation subtracts the batch mean, so the loss does not depend on it.
const PARAMETERS = ['w1', 'gamma', 'beta', 'w2', 'b2'];
const x: NdArray = randomArray('float32', [BATCH, 1, 8, 8], 11);

describe('autodiff: a small CNN end to end', () => {
  // Float32 activations are rounded to ~6e-8 of their size, which reaches the loss as noise of
  // ~1e-8; with h = 1e-3 that is ~1e-5 in a central difference, against gradients of 0.1–1. A
  // larger h makes Relus and maxima switch inside the step (at h = 3e-3 the error in d loss/d w1
  // is already 1.5e-2), so h stays small.
  it('Conv-BatchNorm(batch statistics)-Relu-MaxPool-Gemm-LogSoftmax-NLL matches central differences', async () => {
    const { model } = toTrainingBatchNorm(cnn());
    const result = await checkGradients(model, 'loss', PARAMETERS, { x }, { h: 1e-3, maxElements: 40 });
    assert.ok(Object.values(result.gradients).every((g) => g.data.some((v) => v !== 0)));
  });

  it('the same gradient model runs in onnxruntime-web (wasm) with the same results', async () => {
    const { model } = toTrainingBatchNorm(cnn());
    const { model: gm, gradients } = buildGradientModel(model, { loss: 'loss', parameters: PARAMETERS });
    const feeds: Record<string, NdArray> = { x };
    for (const p of PARAMETERS) {
      const t = model.graph.initializers.get(p)!;
      feeds[p] = { dtype: 'float32', shape: [...t.dims], data: t.data() } as NdArray;
    }
    const results = [];
    for (const backend of ['native', 'wasm'] as const) {
      const runner = await Runner.create(gm, { backend });
      results.push(await runner.run(feeds));
      await runner.release();
    }
    const [native, wasm] = results;
    for (const p of PARAMETERS) {
      const a = native[gradients.get(p)!].data as Float32Array;
      const b = wasm[gradients.get(p)!].data as Float32Array;
      const scale = Math.max(...Array.from(a, Math.abs));
      const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
      assert.ok(diff <= 1e-4 * scale, `${p}: wasm and native differ by ${diff} (scale ${scale})`);
    }
  });
});
