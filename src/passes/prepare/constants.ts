/**
 * Which values are constants. A value is constant when it names an initializer of its graph or of an
 * enclosing graph — unless the model lets callers override that initializer by feeding a graph input
 * of the same name (IR version 4 and later), which ONNX Runtime treats as an input, and so do we.
 */
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import type { Tensor } from '../../onnx/tensor.js';

/** Where a value read in some graph comes from. */
export type Definition =
  | { kind: 'constant'; graph: Graph; tensor: Tensor }
  | { kind: 'node'; graph: Graph; node: Node }
  /** A graph input (subgraph inputs included), an overridable initializer, or a name nothing defines. */
  | { kind: 'input'; graph: Graph | undefined };

export function definitionOf(model: Model, graph: Graph, name: string): Definition {
  for (let g: Graph | undefined = graph; g; g = g.parent) {
    const node = g.producer(name);
    if (node) return { kind: 'node', graph: g, node };
    const tensor = g.initializers.get(name);
    if (tensor && !(model.irVersion >= 4 && g.isGraphInput(name)))
      return { kind: 'constant', graph: g, tensor };
    if (tensor || g.isGraphInput(name)) return { kind: 'input', graph: g };
  }
  return { kind: 'input', graph: undefined };
}

/** The initializer a graph reads under `name`, if it is a constant there. */
export function constantTensor(model: Model, graph: Graph, name: string): Tensor | undefined {
  if (name === '') return undefined;
  const d = definitionOf(model, graph, name);
  return d.kind === 'constant' ? d.tensor : undefined;
}
