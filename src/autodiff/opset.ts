/**
 * The opset a gradient model is written in. Backward graphs use operators of opset 17 at least
 * (ScatterElements with reduction, Shape with start/end, axes as inputs), and one model has one
 * default-domain opset, so older models are raised — safe from opset 13 when none of the few
 * operators that changed meaning between 13 and 17 is present.
 */
import { QuantkitError } from '../errors.js';
import type { Model } from '../onnx/model.js';

export const GRADIENT_OPSET = 17;
const OLDEST = 13;

/** Raises the model's default-domain opset to 17 when lower, and returns the opset it ends with. */
export function raiseOpset(model: Model): number {
  const from = model.opset('');
  if (from !== undefined && from >= GRADIENT_OPSET) return from;
  if (from !== undefined && from < OLDEST) {
    throw new QuantkitError(
      `gradients need ONNX opset ${OLDEST} or later, and this model imports opset ${from}: ` +
        `convert it first (e.g. onnx.version_converter.convert_version(model, ${GRADIENT_OPSET}))`,
    );
  }
  for (const { node } of model.graph.walk()) {
    if (!node.isStandard) continue;
    // RoiAlign-16 changed its default coordinate mode; BatchNormalization-14 moved its training outputs.
    const changed =
      node.opType === 'RoiAlign' ||
      (node.opType === 'BatchNormalization' && node.outputs.length > 1 && (from ?? 0) < 14);
    if (changed) {
      throw new QuantkitError(
        `gradients need ONNX opset ${GRADIENT_OPSET}, and raising this model from opset ${from} would change the ` +
          `meaning of ${node.label}; convert the model to opset ${GRADIENT_OPSET} first`,
      );
    }
  }
  model.setOpset('', GRADIENT_OPSET);
  if (model.irVersion < 8) model.irVersion = 8;
  return GRADIENT_OPSET;
}
