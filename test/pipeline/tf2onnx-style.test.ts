/**
 * A graph shaped the way tf2onnx exports Keras models (no tf2onnx here to produce a real one): NHWC
 * input transposed for Conv, weights held in Constant nodes and reaching Conv through a Transpose,
 * bias added by a separate Add with a reshaped constant, Identity nodes, Reshape with a constant shape.
 * Preparation must expose the hidden weights so that static and dynamic quantization find them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requiredInputs } from '../../src/data/model-inputs.js';
import { arraySampleSource } from '../../src/data/sample-source.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { quantize } from '../../src/pipeline/quantize.js';
import { Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { randomInput, randomTensor } from '../helpers/tiny-models.js';

function kerasLike() {
  const constant = (name: string, t: ReturnType<typeof randomTensor>) =>
    new Node('Constant', [], [name], { attributes: [Attribute.tensor('value', t.renamed(name))] });
  const ints = (name: string, values: number[]) =>
    new Node('Constant', [], [name], { attributes: [Attribute.tensor('value', intTensor(name, values))] });
  const g = makeGraph({
    nodes: [
      constant('conv_hwio', randomTensor('w', [3, 3, 3, 8], 1)),
      new Node('Transpose', ['conv_hwio'], ['conv_oihw'], {
        attributes: [Attribute.ints('perm', [3, 2, 0, 1])],
      }),
      new Node('Transpose', ['input_nhwc'], ['x_nchw'], {
        attributes: [Attribute.ints('perm', [0, 3, 1, 2])],
      }),
      new Node('Conv', ['x_nchw', 'conv_oihw'], ['conv'], {
        name: 'conv2d/Conv2D',
        attributes: [Attribute.ints('kernel_shape', [3, 3]), Attribute.ints('pads', [1, 1, 1, 1])],
      }),
      constant('bias', randomTensor('b', [1, 8, 1, 1], 2, 0.1)),
      new Node('Add', ['conv', 'bias'], ['biased'], { name: 'conv2d/BiasAdd' }),
      new Node('Relu', ['biased'], ['relu'], { name: 'conv2d/Relu' }),
      new Node('Identity', ['relu'], ['relu_id']),
      new Node('Transpose', ['relu_id'], ['nhwc'], { attributes: [Attribute.ints('perm', [0, 2, 3, 1])] }),
      ints('flat_shape', [-1, 512]),
      new Node('Reshape', ['nhwc', 'flat_shape'], ['flat'], { name: 'flatten/Reshape' }),
      constant('dense_w', randomTensor('wd', [512, 10], 3, 0.05)),
      new Node('MatMul', ['flat', 'dense_w'], ['mm'], { name: 'dense/MatMul' }),
      constant('dense_b', randomTensor('bd', [10], 4, 0.1)),
      new Node('Add', ['mm', 'dense_b'], ['logits'], { name: 'dense/BiasAdd' }),
      new Node('Identity', ['logits'], ['output']),
    ],
    inputs: [makeValueInfo('input_nhwc', 'float32', ['unk__1', 8, 8, 3])],
    outputs: [makeValueInfo('output', 'float32', ['unk__1', 10])],
  });
  return makeModel(g, { opsets: { '': 13 }, producerName: 'tf2onnx' });
}

function intTensor(name: string, values: number[]) {
  return Tensor.fromArray(name, 'int64', [values.length], BigInt64Array.from(values, BigInt));
}

const x: NdArray = { dtype: 'float32', shape: [32, 8, 8, 3], data: randomInput([32, 8, 8, 3], 9) };

async function outputs(model: ReturnType<typeof kerasLike>) {
  const r = await Runner.create(model);
  const out = await r.run({ input_nhwc: x });
  await r.release();
  return out.output.data as Float32Array;
}

function cosine(a: Float32Array, b: Float32Array) {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] ** 2;
    bb += b[i] ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('a tf2onnx-style graph', () => {
  it('static: the Conv weight behind a Transpose of a Constant and the Dense weight get quantized', async () => {
    const float = kerasLike();
    const ref = await outputs(float);
    const { model, report } = await quantize(float, {
      calibration: arraySampleSource({ input_nhwc: x }, requiredInputs(float.graph)),
    });
    assert.equal(report.quantized.Conv, 1);
    assert.equal(report.quantized.MatMul, 1);
    assert.ok(report.prepare.constantsFolded >= 1, 'the weight Transpose was folded');
    assert.ok(cosine(ref, await outputs(model)) > 0.995);
  });

  it('dynamic: the same weights get quantized', async () => {
    const float = kerasLike();
    const { model, report } = await quantize(float, { mode: 'dynamic' });
    assert.equal(report.quantized.Conv, 1);
    assert.equal(report.quantized.MatMul, 1);
    assert.ok(cosine(await outputs(float), await outputs(model)) > 0.995);
  });
});
