/**
 * LSTM with constant W and R → com.microsoft DynamicQuantizeLSTM (ONNX Runtime contrib op), which
 * quantizes X and the hidden state at run time. Its weights are the LSTM's transposed,
 * [num_directions, input_size, 4·hidden_size] and [num_directions, hidden_size, 4·hidden_size], with one
 * scale and zero point per direction, or per direction and gate unit ([num_directions, 4·hidden_size]) for
 * per-channel weights — the layout ONNX Runtime's own quantizer writes.
 */
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { type QuantizedArray } from '../../quant/quantize.js';
import { quantizeWeight, type QuantizedWeight, type WeightNames } from '../../quant/weights.js';
import { type ConstantWeight, floatWeight } from './constant-weight.js';
import { type DynamicContext, type Rewrite, skipped } from './context.js';
import { swapLastAxes } from './transpose.js';
import { type DynamicWeightSpec, describeWeights, specKey, weightSpec } from './weight-spec.js';

export const MS_DOMAIN = 'com.microsoft';

export function quantizeLstm(node: Node, graph: Graph, ctx: DynamicContext): Rewrite {
  const [x, w, r, ...rest] = node.inputs;
  if (node.getInt('layout', 0) !== 0) {
    return skipped('layout=1 (batch first) has no DynamicQuantizeLSTM form');
  }
  const weights: ConstantWeight[] = [];
  for (const [label, name] of [
    ['W', w],
    ['R', r],
  ]) {
    const weight = floatWeight(graph, name);
    if (typeof weight === 'string') return skipped(`${label} '${name}' ${weight}`);
    if (weight.tensor.dims.length !== 3) return skipped(`${label} '${name}' is not 3-D`);
    weights.push(weight);
  }
  const { options } = ctx;
  const spec = weightSpec(
    options.weightType,
    { kind: 'axis', axis: 0 },
    options.symmetric,
    options.reduceRange,
  );
  const [qw, qr] = weights.map((weight) =>
    ctx.weights.quantize(weight, `lstm/${options.perChannel ? 'c' : 't'}/${specKey(spec)}`, (names) =>
      lstmWeight(weight.tensor, names, spec, options.perChannel),
    ),
  );
  // Inputs 3–7 (B, sequence_lens, initial_h, initial_c, P) keep their places; the weight parameters follow.
  const optional = Array.from({ length: 5 }, (_, i) => rest[i] ?? '');
  const quantized = new Node(
    'DynamicQuantizeLSTM',
    [
      x,
      qw.values.name,
      qr.values.name,
      ...optional,
      qw.scale.name,
      qw.zeroPoint.name,
      qr.scale.name,
      qr.zeroPoint.name,
    ],
    node.outputs,
    {
      name: graph.uniqueName(`${node.name || node.outputs[0]}_quant`),
      domain: MS_DOMAIN,
      attributes: node.attributes().filter((a) => a.name !== 'layout'),
    },
  );
  graph.addNode(quantized, { before: node });
  graph.removeNode(node);
  const where = options.perChannel ? `per channel (${qw.params.scale.length} scales)` : 'per direction';
  return { done: true, note: `DynamicQuantizeLSTM, ${describeWeights(spec, where)}` };
}

/**
 * [D, 4H, I] → codes [D, I, 4H], quantized per row of the original (per channel: D·4H scales) or per
 * direction (D scales), with scales and zero points shaped as DynamicQuantizeLSTM reads them.
 */
function lstmWeight(
  weight: Tensor,
  names: WeightNames,
  spec: DynamicWeightSpec,
  perChannel: boolean,
): QuantizedWeight {
  const [dirs, units, inputs] = weight.dims;
  // Rows of the flattened [D·4H, I] matrix are the channels; [D, 4H·I] groups per direction.
  const grouped = perChannel ? [dirs * units, inputs] : [dirs, units * inputs];
  const flat = Tensor.fromArray(weight.name, 'float32', grouped, weight.toFloat32());
  const q = quantizeWeight(flat, names, spec);
  const codes = q.values.data() as QuantizedArray;
  const transposed = swapLastAxes(codes, dirs, units, inputs, codes.slice());
  const paramShape = perChannel ? [dirs, units] : [dirs];
  return {
    values: Tensor.fromArray(names.values, spec.type, [dirs, inputs, units], transposed),
    scale: Tensor.fromArray(names.scale, 'float32', paramShape, q.params.scale),
    zeroPoint: Tensor.fromArray(names.zeroPoint, spec.type, paramShape, q.zeroPoint.data()),
    params: q.params,
  };
}
