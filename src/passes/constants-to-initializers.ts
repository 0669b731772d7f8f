/**
 * Constant nodes → initializers, in every graph (subgraphs included). Exporters such as tf2onnx and
 * spox keep weights in Constant nodes; as initializers they are found and quantized like any other
 * weight, and ONNX Runtime treats both forms the same.
 */
import { AttributeProto_AttributeType as AT } from '../onnx/gen/onnx_pb.js';
import type { Model } from '../onnx/model.js';
import type { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';

/** Returns how many Constant nodes were replaced. */
export function constantsToInitializers(model: Model): number {
  let replaced = 0;
  for (const graph of [...model.graph.graphs()]) {
    for (const node of [...graph.nodes]) {
      if (node.opType !== 'Constant' || !node.isStandard || node.outputs.length !== 1) continue;
      const tensor = constantValue(node);
      if (!tensor) continue;
      graph.removeNode(node);
      graph.addInitializer(tensor);
      replaced++;
    }
  }
  return replaced;
}

/** The Constant's value as a tensor named after its output; undefined for sparse values. */
function constantValue(node: Node): Tensor | undefined {
  const name = node.outputs[0];
  const [attr] = node.attributes();
  if (!attr) return undefined;
  const p = attr.proto;
  switch (attr.type) {
    case AT.TENSOR:
      return attr.tensors[0].renamed(name);
    case AT.FLOAT:
      return Tensor.fromArray(name, 'float32', [], Float32Array.of(p.f));
    case AT.FLOATS:
      return Tensor.fromArray(name, 'float32', [p.floats.length], Float32Array.from(p.floats));
    case AT.INT:
      return Tensor.fromArray(name, 'int64', [], BigInt64Array.of(p.i));
    case AT.INTS:
      return Tensor.fromArray(name, 'int64', [p.ints.length], BigInt64Array.from(p.ints));
    case AT.STRING:
      return Tensor.fromStrings(name, [], [new TextDecoder().decode(p.s)]);
    case AT.STRINGS:
      return Tensor.fromStrings(
        name,
        [p.strings.length],
        p.strings.map((s) => new TextDecoder().decode(s)),
      );
    default:
      return undefined;
  }
}
