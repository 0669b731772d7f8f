/**
 * Blocked DequantizeLinear exists from ONNX opset 21, and a model has one opset for its whole default
 * domain, so the QDQ form raises it. That is safe only when no operator of the model changed meaning
 * or inputs between its opset and 21: every node is then read by the newer schema exactly as before.
 * ONNX Runtime's quantizer raises the opset regardless ("may not be a valid model"); quantkit refuses
 * instead, naming the nodes in the way.
 */
import { QuantkitError } from '../../errors.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';

const QDQ_OPSET = 21;

/**
 * Default-domain operators and the opsets (10 to 21) at which they changed incompatibly: an attribute
 * moved to an input, a default or an input's meaning changed, or the operator was deprecated.
 * Other changes in that span only add types or optional attributes/inputs whose defaults keep the old
 * behaviour. Before opset 10 the changes are too many to vouch for.
 */
const BREAKING: Readonly<Record<string, readonly number[]>> = {
  Slice: [10], // starts/ends/axes attributes → inputs
  TopK: [10], // k attribute → input
  Upsample: [10], // deprecated in favour of Resize
  Resize: [11], // roi input inserted before scales
  Pad: [11], // pads/value attributes → inputs
  Clip: [11], // min/max attributes → inputs
  Scatter: [11], // deprecated in favour of ScatterElements
  Dropout: [12], // ratio attribute → input
  ReduceSum: [13], // axes attribute → input
  Split: [13, 18], // split attribute → input; then equal splits need num_outputs
  Squeeze: [13], // axes attribute → input
  Unsqueeze: [13], // axes attribute → input
  Softmax: [13], // normalises one axis instead of the flattened trailing axes
  LogSoftmax: [13],
  Hardmax: [13],
  RoiAlign: [16], // coordinate_transformation_mode default changed to half_pixel
  ReduceMax: [18], // axes attribute → input, for every Reduce* but ReduceSum
  ReduceMin: [18],
  ReduceMean: [18],
  ReduceProd: [18],
  ReduceL1: [18],
  ReduceL2: [18],
  ReduceLogSum: [18],
  ReduceLogSumExp: [18],
  ReduceSumSquare: [18],
  GridSample: [20], // mode values renamed (bilinear → linear, bicubic → cubic)
  DFT: [20], // axis attribute → input
  GroupNormalization: [21], // scale and bias per channel instead of per group
};

const OLDEST_CHECKED = 10;

export interface OpsetChange {
  from: number;
  to: number;
}

/**
 * The default-domain opset change the QDQ form needs (undefined at 21 or later), after checking that
 * it is safe; throws a QuantkitError naming the operators that forbid it. Changes nothing.
 */
export function opset21Change(model: Model): OpsetChange | undefined {
  const from = model.opset('') ?? 1;
  if (from >= QDQ_OPSET) return undefined;
  if (from < OLDEST_CHECKED) {
    throw new QuantkitError(
      `--format qdq needs ONNX opset ${QDQ_OPSET} (blocked DequantizeLinear), and this model's opset ${from} ` +
        `is too old to raise safely; convert it to opset ${QDQ_OPSET} first, or use --format qoperator`,
    );
  }
  const blocking = new Map<string, number>();
  for (const { node } of model.graph.walk()) {
    const at = breaksAt(node, from);
    if (at !== undefined && !blocking.has(node.opType)) blocking.set(node.opType, at);
  }
  if (blocking.size > 0) {
    const list = [...blocking].map(([op, v]) => `${op} (changed in opset ${v})`).join(', ');
    throw new QuantkitError(
      `--format qdq needs ONNX opset ${QDQ_OPSET} (blocked DequantizeLinear), but raising this model from opset ` +
        `${from} would change the meaning of ${list}; convert the model to opset ${QDQ_OPSET} first, or use --format qoperator`,
    );
  }
  return { from, to: QDQ_OPSET };
}

/** Applies the change, with IR version 10, the first with int4. */
export function applyOpsetChange(model: Model, change: OpsetChange): void {
  model.setOpset('', change.to);
  if (model.irVersion < 10) model.irVersion = 10;
}

/** The first opset in (from, 21] at which `node` would be read differently, if any. */
function breaksAt(node: Node, from: number): number | undefined {
  if (!node.isStandard) return undefined;
  // BatchNormalization-14 moved the training outputs behind training_mode; inference nodes (one
  // output) read the same.
  if (node.opType === 'BatchNormalization') return from < 14 && node.outputs.length > 1 ? 14 : undefined;
  return BREAKING[node.opType]?.find((v) => v > from && v <= QDQ_OPSET);
}
