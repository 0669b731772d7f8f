/**
 * Conv with constant weights → DynamicQuantizeLinear(X) → ConvInteger → Cast → Mul(scale) → Add(bias).
 *
 * ONNX Runtime's only ConvInteger kernel takes uint8 weights with a single zero point (transformers.js
 * switches to uint8 weights for this reason), so Conv weights are uint8 whatever the weight type, and
 * per-channel weights are symmetric: one scale per output channel around the shared zero point 128.
 * Per-tensor weights are symmetric unless symmetricWeights is false.
 * The per-channel scales and the bias are stored as [1, M, 1, …] so they broadcast over the output.
 * ONNX Runtime does not fuse this chain; ConvInteger runs as it is.
 */
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { quantizeWeight } from '../../quant/weights.js';
import { floatWeight } from './constant-weight.js';
import { type DynamicContext, type Rewrite, skipped } from './context.js';
import { emitRescale } from './rescale.js';
import { describeWeights, specKey, weightSpec } from './weight-spec.js';

export function quantizeConv(node: Node, graph: Graph, ctx: DynamicContext): Rewrite {
  const [x, w, b = ''] = node.inputs;
  const weight = floatWeight(graph, w);
  if (typeof weight === 'string') return skipped(`W '${w}' ${weight}`);
  const dims = weight.tensor.dims;
  if (dims.length < 3) return skipped(`W '${w}' has rank ${dims.length}; a Conv weight has rank ≥ 3`);
  const bias = b === '' ? undefined : floatWeight(graph, b);
  if (typeof bias === 'string') return skipped(`bias '${b}' ${bias}`);

  const { options } = ctx;
  const channels = dims[0];
  // [1, M, 1, …]: the output has the weight's rank, with channels on axis 1.
  const channelShape = dims.map((_, i) => (i === 1 ? channels : 1));
  const spec = weightSpec(
    'uint8',
    options.perChannel ? { kind: 'axis', axis: 0 } : { kind: 'tensor' },
    options.perChannel || options.symmetric,
    false,
  );
  const q = ctx.weights.quantize(weight, `conv/${specKey(spec)}`, (names) => {
    const made = quantizeWeight(weight.tensor, names, spec);
    if (spec.granularity.kind === 'tensor') return made;
    return {
      ...made,
      scale: Tensor.fromArray(names.scale, 'float32', channelShape, made.params.scale),
      // Symmetric uint8: every channel's zero point is 128, which ConvInteger takes as one scalar.
      zeroPoint: Tensor.fromArray(names.zeroPoint, 'uint8', [], Uint8Array.of(made.params.zeroPoint[0])),
    };
  });
  const biasName =
    bias === undefined
      ? undefined
      : ctx.weights.derive(bias, 'broadcast', (name) =>
          Tensor.fromArray(name, 'float32', channelShape, bias.tensor.toFloat32()),
        ).name;

  const xq = ctx.activations.quantize(graph, x, node);
  const base = node.name || node.outputs[0];
  const accumulator = graph.uniqueName(`${base}_int32`);
  graph.addNode(
    new Node('ConvInteger', [xq.values, q.values.name, xq.zeroPoint, q.zeroPoint.name], [accumulator], {
      name: graph.uniqueName(`${base}_ConvInteger`),
      // The replaced node is discarded, so its attributes can move over as they are.
      attributes: node.attributes(),
    }),
    { before: node },
  );
  emitRescale(graph, node, {
    base,
    accumulator,
    activationScale: xq.scale,
    weightScale: q.scale.name,
    bias: biasName,
    output: node.outputs[0],
  });
  graph.removeNode(node);
  return { done: true, note: `ConvInteger, ${describeWeights(spec, q.params.scale.length)}${notes(ctx)}` };
}

function notes({ options }: DynamicContext): string {
  const out: string[] = [];
  if (options.weightTypeGiven && options.weightType === 'int8') {
    out.push('uint8 instead of int8: ONNX Runtime has no ConvInteger kernel for int8 weights');
  }
  if (options.perChannel && options.symmetricGiven && !options.symmetric) {
    out.push('symmetric although asymmetric was asked: ConvInteger takes one zero point for all channels');
  }
  return out.length > 0 ? ` (${out.join('; ')})` : '';
}
