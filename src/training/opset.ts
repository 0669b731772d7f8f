/**
 * Training graphs use BatchNormalization's training form (opset 15) and the autodiff engine emits
 * opset-17 ops; models from opset 13 on are raised to 17, whose ops mean the same for the layers
 * training supports. Older models changed meaning at 13 (Softmax, Squeeze, reductions) and are refused.
 */
import { QuantkitError } from '../errors.js';
import type { Model } from '../onnx/model.js';

export const TRAINING_OPSET = 17;

export function raiseForTraining(model: Model, where: string): void {
  const v = model.opset('') ?? 0;
  if (v < 13) {
    throw new QuantkitError(
      `${where} uses ONNX opset ${v}; training needs opset 13 or later — convert the model ` +
        '(e.g. onnx.version_converter.convert_version(model, 17)) and try again',
    );
  }
  if (v < TRAINING_OPSET) model.setOpset('', TRAINING_OPSET);
}
