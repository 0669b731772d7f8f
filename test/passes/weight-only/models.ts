/** Small hand-built models for the weight-only tests, and running them against their float originals. */
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { randomInput, randomTensor } from '../../helpers/tiny-models.js';
import { outputDiff, runModel } from '../dynamic/compare.js';

export const BATCH = 8;

/**
 * x[8, 256] → MatMul(w1 [256, 128]) → Relu → Gemm(w2 [64, 128], transB, bias b2 [64]) → y[8, 64]:
 * K is a multiple of 128, so blocks of 128 carry no padding.
 */
export function mlp(): Model {
  const graph = makeGraph({
    nodes: [
      new Node('MatMul', ['x', 'w1'], ['h'], { name: 'fc1' }),
      new Node('Relu', ['h'], ['r'], { name: 'relu' }),
      new Node('Gemm', ['r', 'w2', 'b2'], ['y'], { name: 'fc2', attributes: [Attribute.int('transB', 1)] }),
    ],
    inputs: [makeValueInfo('x', 'float32', [BATCH, 256])],
    outputs: [makeValueInfo('y', 'float32', [BATCH, 64])],
    initializers: [
      randomTensor('w1', [256, 128], 1, 0.1),
      randomTensor('w2', [64, 128], 2, 0.1),
      randomTensor('b2', [64], 3, 0.1),
    ],
  });
  return makeModel(graph, { opsets: { '': 17 } });
}

export function floatInput(name: string, shape: number[], seed = 5): Record<string, NdArray> {
  return { [name]: { dtype: 'float32', shape, data: randomInput(shape, seed) } };
}

/** Cosine of the rewritten model's first output against the float model's, on the same feeds. */
export async function outputCosine(
  reference: Model,
  rewritten: Model,
  feeds: Record<string, NdArray>,
): Promise<number> {
  const name = reference.graph.outputs[0].name;
  const [[a], [b]] = [await runModel(reference, [feeds]), await runModel(rewritten, [feeds])];
  return outputDiff(a[name], b[name]).cosine;
}

/** Op types of a model, subgraphs included, in order. */
export function opTypes(model: Model): string[] {
  return [...model.graph.walk()].map(({ node }) => node.opType);
}
