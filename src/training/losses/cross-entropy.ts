/**
 * Cross-entropy of logits against class targets, built into the graph:
 * H(y, σ(z)) = −mean_n Σ_c y[n,c] · log_softmax(z)[n,c], classes on the last axis. The targets come in
 * as one-hot rows (the trainer expands integer labels), which keeps the loss to ops every runtime and
 * the autodiff engine know (LogSoftmax, Mul, ReduceSum, ReduceMean) rather than a gather of indices.
 */
import { Attribute } from '../../onnx/attribute.js';
import { makeValueInfo } from '../../onnx/value-info.js';
import type { GraphEditor } from '../graph-editor.js';
import type { LossGraph } from './loss.js';

/** −mean Σ target · log_softmax(logits); `target` rows are probability distributions. */
export function crossEntropyTerm(e: GraphEditor, logits: string, target: string): string {
  const logp = e.op('LogSoftmax', [logits], [Attribute.int('axis', -1)]);
  const perSample = e.reduceSum(e.op('Mul', [target, logp]), [-1], false);
  return e.op('Mul', [e.meanAll(perSample), e.scalar(-1, 'minus_one')]);
}

/** Adds the target input [N, classes] next to `logits`. */
export function addTargetInput(e: GraphEditor, logits: string, base: string): string {
  const name = e.name(base);
  const shape = e.graph.tensorType(logits).shape;
  e.graph.inputs.push(makeValueInfo(name, 'float32', shape ?? ['batch', 'classes']));
  return name;
}

export function appendCrossEntropy(e: GraphEditor, logits: string): LossGraph {
  const target = addTargetInput(e, logits, 'target');
  return { loss: crossEntropyTerm(e, logits, target), target };
}
