/**
 * A classifier with one deliberately fragile layer: x[N,16] → fc1 → Relu → fc2 → Relu → fc3 → logits.
 * fc1's first output is dead (zero weights, bias −1, so the Relu always gives 0), and fc2 reads that
 * dead channel with weights of 40: harmless in float, but under per-tensor weight quantization the
 * outlier sets fc2's scale, and its real weights (|w| ≤ 0.5) round to a handful of levels.
 */
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { randomInput, randomTensor } from '../helpers/tiny-models.js';

export const FRAGILE_LAYER = 'fc2';
export const OUTLIER = 40;

export function fragileModel(): Model {
  const d1 = Float32Array.from(randomTensor('w1', [32, 16], 11).toFloat32()).fill(0, 0, 16);
  const bias1 = Float32Array.from(randomTensor('b1', [32], 12, 0.1).toFloat32());
  bias1[0] = -1;
  const d2 = Float32Array.from(randomTensor('w2', [32, 32], 13).toFloat32());
  for (let row = 0; row < 32; row++) d2[row * 32] = OUTLIER;
  const w1 = Tensor.fromArray('w1', 'float32', [32, 16], d1);
  const b1 = Tensor.fromArray('b1', 'float32', [32], bias1);
  const w2 = Tensor.fromArray('w2', 'float32', [32, 32], d2);
  const gemm = (name: string, x: string, w: string, b: string, y: string) =>
    new Node('Gemm', [x, w, b], [y], { name, attributes: [Attribute.int('transB', 1)] });
  const g = makeGraph({
    nodes: [
      gemm('fc1', 'x', 'w1', 'b1', 'h1'),
      new Node('Relu', ['h1'], ['a1'], { name: 'relu1' }),
      gemm(FRAGILE_LAYER, 'a1', 'w2', 'b2', 'h2'),
      new Node('Relu', ['h2'], ['a2'], { name: 'relu2' }),
      gemm('fc3', 'a2', 'w3', 'b3', 'logits'),
    ],
    inputs: [makeValueInfo('x', 'float32', ['N', 16])],
    outputs: [makeValueInfo('logits', 'float32', ['N', 10])],
    initializers: [
      w1,
      b1,
      w2,
      randomTensor('b2', [32], 14, 0.1),
      randomTensor('w3', [10, 32], 15),
      randomTensor('b3', [10], 16, 0.1),
    ],
  });
  return makeModel(g, { opsets: { '': 17 } });
}

export function fragileInputs(samples: number, seed = 21): NdArray {
  return { dtype: 'float32', shape: [samples, 16], data: randomInput([samples, 16], seed) };
}
