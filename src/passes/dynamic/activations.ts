/**
 * Run-time quantization of activations: one DynamicQuantizeLinear per float value and graph, shared by
 * every integer op reading that value, so each activation is quantized once per run.
 */
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';

export interface QuantizedActivation {
  /** uint8 codes. */
  values: string;
  /** float32 scalar. */
  scale: string;
  /** uint8 scalar. */
  zeroPoint: string;
}

export class ActivationQuantizer {
  private readonly made = new Map<Graph, Map<string, QuantizedActivation>>();

  /** The quantized form of `value` in `graph`; a new DynamicQuantizeLinear goes right before `reader`. */
  quantize(graph: Graph, value: string, reader: Node): QuantizedActivation {
    let values = this.made.get(graph);
    if (!values) this.made.set(graph, (values = new Map()));
    let q = values.get(value);
    if (!q) {
      q = {
        values: graph.uniqueName(`${value}_quantized`),
        scale: graph.uniqueName(`${value}_scale`),
        zeroPoint: graph.uniqueName(`${value}_zero_point`),
      };
      const node = new Node('DynamicQuantizeLinear', [value], [q.values, q.scale, q.zeroPoint], {
        name: graph.uniqueName(`${value}_QuantizeLinear`),
      });
      // Nodes are rewritten in graph order, so `reader` is the first reader to be rewritten.
      graph.addNode(node, { before: reader });
      values.set(value, q);
    }
    return q;
  }
}
