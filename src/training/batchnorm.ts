/**
 * BatchNormalization while training. In training form each node is rewritten as its formula over the
 * batch — mean and variance per channel by ReduceMean, y = (x − μ)/√(σ² + ε)·γ + β — in plain ops
 * that every ONNX Runtime build runs and the autodiff engine differentiates (gradients flow through
 * the batch statistics, as in PyTorch's training mode). The batch mean and the unbiased batch
 * variance are extra outputs; the trainer folds them into the running statistics with the node's
 * momentum (running·m + batch·(1 − m), ONNX's convention; PyTorch's 0.1 is ONNX's 0.9). Frozen, the
 * original nodes come back and normalise with the running statistics.
 */
import { Attribute } from '../onnx/attribute.js';
import type { Graph } from '../onnx/graph.js';
import type { Model } from '../onnx/model.js';
import type { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';
import { GraphEditor } from './graph-editor.js';

export interface BatchNormState {
  /** The initializers holding the running mean and variance. */
  mean: string;
  variance: string;
  momentum: number;
  /** Outputs of the training graph: this batch's mean and unbiased variance, one value per channel. */
  batchMean: string;
  batchVariance: string;
}

export function batchNormNodes(g: Graph): Node[] {
  return g.nodes.filter((n) => n.opType === 'BatchNormalization' && n.isStandard);
}

/** Rewrites every BatchNormalization of the main graph in training form; returns what to track. */
export function toTrainingForm(model: Model): BatchNormState[] {
  const g = model.graph;
  const e = new GraphEditor(model, 'bn_train_');
  const out: BatchNormState[] = [];
  for (const n of batchNormNodes(g)) {
    const [x, scale, shift, mean, variance] = n.inputs;
    const rank = g.tensorType(x).shape?.length ?? 4;
    const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    const perChannel = e.name('channel_shape');
    g.addInitializer(
      Tensor.fromArray(
        perChannel,
        'int64',
        [rank],
        BigInt64Array.from([1, -1, ...axes.slice(1).map(() => 1)], BigInt),
      ),
    );
    const channel = (v: string) => e.op('Reshape', [v, perChannel]);
    const mu = e.reduceMean(x, axes, true);
    const centered = e.op('Sub', [x, mu]);
    const sigma2 = e.reduceMean(e.op('Mul', [centered, centered]), axes, true);
    const eps = e.scalar(n.getFloat('epsilon', 1e-5), 'epsilon');
    const normalized = e.op('Div', [centered, e.op('Sqrt', [e.op('Add', [sigma2, eps])])]);
    const y = n.outputs[0];
    g.removeNode(n);
    const affine = e.op('Add', [e.op('Mul', [normalized, channel(scale)]), channel(shift)]);
    g.replaceAllUses(affine, y);
    g.producer(affine)!.setOutputs([y]);
    // Per-channel elements this batch: Size(x)/C; the running variance takes the unbiased estimate.
    const elements = e.op('Div', [
      e.op('Cast', [e.op('Size', [x])], [Attribute.int('to', 1)]),
      e.op('Cast', [e.op('Size', [mean])], [Attribute.int('to', 1)]),
    ]);
    const bessel = e.op('Div', [elements, e.op('Sub', [elements, e.scalar(1, 'one')])]);
    const flat = e.name('flat_shape');
    g.addInitializer(Tensor.fromArray(flat, 'int64', [1], BigInt64Array.of(-1n)));
    out.push({
      mean,
      variance,
      momentum: n.getFloat('momentum', 0.9),
      batchMean: e.op('Reshape', [mu, flat]),
      batchVariance: e.op('Reshape', [e.op('Mul', [sigma2, bessel]), flat]),
    });
  }
  g.sortTopologically();
  return out;
}

/** running ← running·m + batch·(1 − m), in place. */
export function updateRunning(running: Float32Array, batch: Float32Array, momentum: number): void {
  for (let i = 0; i < running.length; i++) running[i] = running[i] * momentum + batch[i] * (1 - momentum);
}
