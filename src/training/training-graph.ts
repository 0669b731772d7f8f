/**
 * The one model ONNX Runtime runs per training step: the forward model with its BatchNormalizations in
 * training form (unless frozen), the loss appended, and the backward pass from the autodiff engine.
 */
import { buildGradientModel } from '../autodiff/gradient-model.js';
import { cloneModel } from '../onnx/clone.js';
import type { Model } from '../onnx/model.js';
import { type BatchNormState, toTrainingForm } from './batchnorm.js';
import { defineFakeQuant, FAKE_QUANT_DOMAIN } from './fake-quant/function.js';
import { registerFakeQuantGradient } from './fake-quant/gradient.js';
import { GraphEditor } from './graph-editor.js';
import { appendCrossEntropy } from './losses/cross-entropy.js';
import { appendDistillation, type DistillationWeights } from './losses/distillation.js';
import type { LossGraph } from './losses/loss.js';

export type LossSpec = { kind: 'cross-entropy' } | ({ kind: 'distillation' } & DistillationWeights);

export interface TrainingGraph {
  model: Model;
  loss: LossGraph;
  /** Parameter → the output holding its gradient. */
  gradients: Map<string, string>;
  /** Empty once BatchNormalization is frozen. */
  batchNorm: BatchNormState[];
  logits: string;
}

export function buildTrainingGraph(
  forward: Model,
  opts: { logits: string; loss: LossSpec; parameters: readonly string[]; batchNormTraining: boolean },
): TrainingGraph {
  const model = cloneModel(forward);
  const batchNorm = opts.batchNormTraining ? toTrainingForm(model) : [];
  const e = new GraphEditor(model, 'loss_');
  const loss =
    opts.loss.kind === 'distillation'
      ? appendDistillation(e, opts.logits, opts.loss)
      : appendCrossEntropy(e, opts.logits);
  registerFakeQuantGradient();
  const built = buildGradientModel(model, {
    loss: loss.loss,
    parameters: [...opts.parameters],
    keepOutputs: [opts.logits, ...batchNorm.flatMap((b) => [b.batchMean, b.batchVariance])],
  });
  if (built.model.opset(FAKE_QUANT_DOMAIN) !== undefined) defineFakeQuant(built.model);
  return { model: built.model, loss, gradients: built.gradients, batchNorm, logits: opts.logits };
}
