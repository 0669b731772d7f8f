/** Small hand-built models whose structure the tests state exactly. */
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { createRng } from '../../src/tensor/random.js';

export function randomTensor(name: string, dims: number[], seed: number, scale = 0.5): Tensor {
  const rng = createRng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rng.nextFloat() * 2 - 1) * scale;
  return Tensor.fromArray(name, 'float32', dims, data);
}

export function randomInput(dims: number[], seed: number): Float32Array {
  const rng = createRng(seed);
  return new Float32Array(dims.reduce((a, b) => a * b, 1)).map(() => rng.nextFloat() * 2 - 1);
}

/**
 * x[N,3,8,8] → Conv1 → Relu → MaxPool → Conv2 → Add(MaxPool out) → Relu → GlobalAveragePool →
 * Flatten → Gemm → Softmax → probs.
 */
export function residualCnn(): Model {
  const conv = (name: string, x: string, w: string, b: string, y: string) =>
    new Node('Conv', [x, w, b], [y], {
      name,
      attributes: [Attribute.ints('kernel_shape', [3, 3]), Attribute.ints('pads', [1, 1, 1, 1])],
    });
  const g = makeGraph({
    nodes: [
      conv('conv1', 'x', 'w1', 'b1', 'c1'),
      new Node('Relu', ['c1'], ['r1'], { name: 'relu1' }),
      new Node('MaxPool', ['r1'], ['p1'], {
        name: 'pool',
        attributes: [Attribute.ints('kernel_shape', [2, 2]), Attribute.ints('strides', [2, 2])],
      }),
      conv('conv2', 'p1', 'w2', 'b2', 'c2'),
      new Node('Add', ['c2', 'p1'], ['s'], { name: 'add' }),
      new Node('Relu', ['s'], ['r2'], { name: 'relu2' }),
      new Node('GlobalAveragePool', ['r2'], ['gap'], { name: 'gap' }),
      new Node('Flatten', ['gap'], ['flat'], { name: 'flatten' }),
      new Node('Gemm', ['flat', 'wf', 'bf'], ['logits'], {
        name: 'fc',
        attributes: [Attribute.int('transB', 1)],
      }),
      new Node('Softmax', ['logits'], ['probs'], { name: 'softmax', attributes: [Attribute.int('axis', 1)] }),
    ],
    inputs: [makeValueInfo('x', 'float32', ['N', 3, 8, 8])],
    outputs: [makeValueInfo('probs', 'float32', ['N', 4])],
    initializers: [
      randomTensor('w1', [8, 3, 3, 3], 1),
      randomTensor('b1', [8], 2, 0.1),
      randomTensor('w2', [8, 8, 3, 3], 3, 0.2),
      randomTensor('b2', [8], 4, 0.1),
      randomTensor('wf', [4, 8], 5),
      randomTensor('bf', [4], 6, 0.1),
    ],
  });
  return makeModel(g, { opsets: { '': 17 } });
}
