/**
 * `trainModel(model, request)`: plain float training with the training engine (`quantkit train`) —
 * optionally from a fresh He initialisation — returning the model with its trained weights and
 * BatchNormalization statistics, structured as it came in (BatchNormalization stays a separate node
 * unless asked to fold it, with the pass `prepare` uses for quantization).
 */
import { cloneModel } from '../onnx/clone.js';
import type { Model } from '../onnx/model.js';
import { foldBatchNorm } from '../passes/prepare/fold-batchnorm.js';
import { heInitialize } from './he-init.js';
import { raiseForTraining } from './opset.js';
import { train, type TrainLog, type TrainOptions } from './trainer.js';

export interface TrainModelRequest extends Omit<TrainOptions, 'teacher' | 'scales' | 'loss'> {
  /** 'he': start from random weights (He initialisation, seeded by `seed`); 'keep' (default): fine-tune. */
  init?: 'he' | 'keep';
  /** Fold BatchNormalization into the layers before it in the result. */
  foldBatchNorm?: boolean;
}

export interface TrainModelReport {
  init: 'he' | 'keep';
  history: TrainLog[];
  evalAccuracy?: number;
  steps: number;
  seconds: number;
  samplesPerSecond: number;
  batchNormsFolded: number;
}

export async function trainModel(
  model: Model,
  req: TrainModelRequest,
): Promise<{ model: Model; report: TrainModelReport }> {
  const work = cloneModel(model);
  raiseForTraining(work, 'the model');
  const init = req.init ?? 'keep';
  if (init === 'he') heInitialize(work.graph, req.seed ?? 0);
  const result = await train(work, { ...req, loss: { kind: 'cross-entropy' } });
  let batchNormsFolded = 0;
  if (req.foldBatchNorm) {
    batchNormsFolded = foldBatchNorm(result.model).folded;
    result.model.graph.removeUnusedInitializers();
  }
  return {
    model: result.model,
    report: {
      init,
      history: result.history,
      evalAccuracy: result.evalAccuracy,
      steps: result.steps,
      seconds: result.seconds,
      samplesPerSecond: result.samplesPerSecond,
      batchNormsFolded,
    },
  };
}
