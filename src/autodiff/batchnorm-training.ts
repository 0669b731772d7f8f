/**
 * BatchNormalization in training form, written out in plain ONNX operators. ONNX Runtime 1.30 runs
 * training_mode=1 forward, but its graph optimiser fuses Conv+BatchNormalization regardless of the mode
 * and no gradient rule would cover its extra outputs, so a trainer that normalises with batch
 * statistics gets them computed in the graph instead:
 *   μ = mean over (N, spatial) of x, σ² = mean of (x − μ)² (biased, as batch normalisation uses),
 *   y = (x − μ)/√(σ² + ε)·scale + B.
 * The gradient then flows through μ and σ² by the ordinary rules of those operators. The batch μ and
 * σ² come out as [C] values, for the trainer to update the running statistics with.
 */
import { QuantkitError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { inferDtypes } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { Emitter } from './context.js';
import { graphShapes } from './shapes.js';

export interface BatchNormStatistics {
  /** Label of the rewritten node, for messages. */
  node: string;
  /** Its inputs: the running statistics are left in the model as they were, unread by the new form. */
  input: string;
  scale: string;
  bias: string;
  runningMean: string;
  runningVariance: string;
  /** The values holding the batch mean and biased batch variance, shape [C]. */
  mean: string;
  variance: string;
  epsilon: number;
  /** ONNX's momentum: running = running·momentum + batch·(1 − momentum). */
  momentum: number;
}

export interface TrainingBatchNorm {
  model: Model;
  statistics: BatchNormStatistics[];
}

/**
 * A copy of the model with every BatchNormalization of the main graph (inference form) computing its
 * own batch statistics. `only` restricts the rewrite to nodes producing those outputs.
 */
export function toTrainingBatchNorm(source: Model, only?: ReadonlySet<string>): TrainingBatchNorm {
  const model = cloneModel(source);
  const g = model.graph;
  const ctx = new Emitter({
    graph: g,
    opset: model.opset('') ?? 17,
    dtypes: inferDtypes(model),
    shapes: graphShapes(g),
    needsGradient: () => false,
    prefix: 'bn_train',
  });
  const statistics: BatchNormStatistics[] = [];
  for (const node of [...g.nodes]) {
    if (node.opType !== 'BatchNormalization' || !node.isStandard) continue;
    if (only && !only.has(node.outputs[0])) continue;
    if (node.outputs.filter((o) => o !== '').length > 1 || node.getInt('training_mode', 0) !== 0) {
      throw new QuantkitError(
        `${node.label} is already in training form; only inference BatchNormalization is rewritten`,
      );
    }
    const [x, scale, bias, runningMean, runningVariance] = node.inputs;
    const rank = ctx.rank(x);
    if (rank === undefined || rank < 2) {
      throw new QuantkitError(
        `${node.label}: the rank of its input '${x}' is unknown; declare the model input's shape`,
      );
    }
    const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    const epsilon = node.getFloat('epsilon', 1e-5);
    const perChannel = ctx.int64s([1, -1, ...new Array(rank - 2).fill(1)]);
    const mean4 = ctx.reduceMean(x, axes, true);
    const centered = ctx.op('Sub', [x, mean4]);
    const variance4 = ctx.reduceMean(ctx.op('Mul', [centered, centered]), axes, true);
    const inv = ctx.op('Reciprocal', [
      ctx.op('Sqrt', [ctx.op('Add', [variance4, ctx.floatConstant(epsilon, x)])]),
    ]);
    const normalized = ctx.op('Mul', [centered, inv]);
    const scaled = ctx.op('Mul', [normalized, ctx.op('Reshape', [scale, perChannel])]);
    g.removeNode(node);
    g.addNode(
      new Node('Add', [scaled, ctx.op('Reshape', [bias, perChannel])], [node.outputs[0]], {
        name: node.name,
      }),
    );
    statistics.push({
      node: node.label,
      input: x,
      scale,
      bias,
      runningMean,
      runningVariance,
      mean: ctx.op('Reshape', [mean4, ctx.int64s([-1])]),
      variance: ctx.op('Reshape', [variance4, ctx.int64s([-1])]),
      epsilon,
      momentum: node.getFloat('momentum', 0.9),
    });
  }
  g.sortTopologically();
  return { model, statistics };
}
