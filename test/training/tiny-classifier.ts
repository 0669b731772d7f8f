/**
 * A tiny image classifier and a data set it can learn in a few dozen steps: x[N,1,6,6] → Conv 3×3
 * (4 channels) → BatchNormalization → Relu → Flatten → Gemm → logits[N,3]; class k images carry a
 * bright 2×2 patch in corner k, on noise.
 */
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { createRng } from '../../src/tensor/random.js';
import type { TrainData } from '../../src/training/train-data.js';
import { randomTensor } from '../helpers/tiny-models.js';

export const CLASSES = 3;
const SIDE = 6;

export function tinyClassifier(opset = 13): Model {
  const channels = 4;
  const filled = (name: string, n: number, v: number) =>
    Tensor.fromArray(name, 'float32', [n], new Float32Array(n).fill(v));
  const g = makeGraph({
    nodes: [
      new Node('Conv', ['input', 'conv.w', 'conv.b'], ['c'], {
        name: 'conv',
        attributes: [Attribute.ints('kernel_shape', [3, 3]), Attribute.ints('pads', [1, 1, 1, 1])],
      }),
      new Node('BatchNormalization', ['c', 'bn.g', 'bn.b', 'bn.mean', 'bn.var'], ['n'], { name: 'bn' }),
      new Node('Relu', ['n'], ['r'], { name: 'relu' }),
      new Node('Flatten', ['r'], ['f'], { name: 'flatten' }),
      new Node('Gemm', ['f', 'fc.w', 'fc.b'], ['logits'], {
        name: 'fc',
        attributes: [Attribute.int('transB', 1)],
      }),
    ],
    inputs: [makeValueInfo('input', 'float32', ['N', 1, SIDE, SIDE])],
    outputs: [makeValueInfo('logits', 'float32', ['N', CLASSES])],
    initializers: [
      randomTensor('conv.w', [channels, 1, 3, 3], 11),
      filled('conv.b', channels, 0),
      filled('bn.g', channels, 1),
      filled('bn.b', channels, 0),
      filled('bn.mean', channels, 0),
      filled('bn.var', channels, 1),
      randomTensor('fc.w', [CLASSES, channels * SIDE * SIDE], 12, 0.1),
      filled('fc.b', CLASSES, 0),
    ],
  });
  return makeModel(g, { opsets: { '': opset } });
}

export function tinyData(n: number, seed: number): TrainData {
  const rng = createRng(seed);
  const x = new Float32Array(n * SIDE * SIDE);
  const labels = new Int32Array(n);
  const corners = [
    [0, 0],
    [0, SIDE - 2],
    [SIDE - 2, 0],
  ];
  for (let i = 0; i < n; i++) {
    const k = i % CLASSES;
    labels[i] = k;
    const base = i * SIDE * SIDE;
    for (let p = 0; p < SIDE * SIDE; p++) x[base + p] = rng.nextFloat() * 0.5;
    const [r, c] = corners[k];
    for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) x[base + (r + dr) * SIDE + c + dc] += 1;
  }
  return { inputs: { input: { dtype: 'float32', shape: [n, 1, SIDE, SIDE], data: x } }, labels };
}
