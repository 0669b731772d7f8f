/**
 * The models that evaluate AWQ's candidate errors (algorithms/awq.ts `AwqEvaluator`) in ONNX Runtime.
 * Every dimension is symbolic, so one session of each serves all layers.
 * - total: gram [K, K], diffs [A, K, N] → loss [A] = Σ_{k,n} diffs ⊙ (gram · diffs), i.e. Σ over
 *   columns of dᵀ·G·d for each of the A candidates;
 * - per block: grams [B, S, S], diffs [A, B, S, N] → loss [A, B, N], the same per block of S rows.
 */
import { Attribute } from '../../onnx/attribute.js';
import { makeGraph, makeModel } from '../../onnx/builders.js';
import type { Model } from '../../onnx/model.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { makeValueInfo } from '../../onnx/value-info.js';

export const GRAM_LOSS_IO = { gram: 'gram', diffs: 'diffs', loss: 'loss' } as const;

export function gramLossModel(): Model {
  return quadraticForm(['k', 'k'], ['a', 'k', 'n'], [1, 2], ['a']);
}

export function blockLossModel(): Model {
  return quadraticForm(['b', 's', 's'], ['a', 'b', 's', 'n'], [2], ['a', 'b', 'n']);
}

function quadraticForm(gramDims: string[], diffDims: string[], axes: number[], lossDims: string[]): Model {
  const { gram, diffs, loss } = GRAM_LOSS_IO;
  return makeModel(
    makeGraph({
      name: 'awq_loss',
      nodes: [
        new Node('MatMul', [gram, diffs], ['projected']),
        new Node('Mul', [diffs, 'projected'], ['terms']),
        new Node('ReduceSum', ['terms', 'axes'], [loss], { attributes: [Attribute.int('keepdims', 0)] }),
      ],
      inputs: [makeValueInfo(gram, 'float32', gramDims), makeValueInfo(diffs, 'float32', diffDims)],
      outputs: [makeValueInfo(loss, 'float32', lossDims)],
      initializers: [Tensor.fromArray('axes', 'int64', [axes.length], BigInt64Array.from(axes, BigInt))],
    }),
    { opsets: { '': 17 } },
  );
}
