/**
 * Removes Identity nodes, and Dropout nodes in inference form, by rewiring their readers to the
 * forwarded value. Graph outputs keep their names: when an Identity writes one, its producer is
 * renamed to write it instead. Two kinds stay: an Identity forwarding a graph input or initializer
 * straight to a graph output (nothing else could write that name), and, in subgraphs, one forwarding
 * an outer-scope value to a subgraph output — that is how If branches and loop bodies output values
 * of enclosing graphs.
 */
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { constantTensor } from './constants.js';

/** Returns how many nodes were removed. */
export function removeIdentities(model: Model): number {
  let removed = 0;
  for (const graph of [...model.graph.graphs()]) {
    const nested = nestedOutputNames(graph);
    for (const node of [...graph.nodes]) {
      if (isPassThrough(model, graph, node) && bypass(graph, node, nested)) removed++;
    }
  }
  return removed;
}

function isPassThrough(model: Model, graph: Graph, node: Node): boolean {
  if (!node.isStandard || node.inputs.length === 0 || node.inputs[0] === '') return false;
  if (node.opType === 'Identity') return true;
  if (node.opType !== 'Dropout') return false;
  const mask = node.outputs[1] ?? '';
  if (mask !== '' && (graph.consumers(mask).length > 0 || graph.isGraphOutput(mask))) return false;
  const trainingMode = node.inputs[2] ?? '';
  if (trainingMode === '') return true;
  const t = constantTensor(model, graph, trainingMode);
  return t !== undefined && t.dtype === 'bool' && t.size === 1 && t.data()[0] === 0;
}

/** Rewires around `node` and removes it; false when it must stay. */
function bypass(graph: Graph, node: Node, nested: ReadonlySet<string>): boolean {
  const from = node.inputs[0];
  const to = node.outputs[0];
  if (graph.isGraphOutput(to)) {
    const producer = graph.producer(from);
    if (!producer || graph.isGraphOutput(from) || nested.has(from)) return false;
    graph.removeNode(node);
    producer.setOutputs(producer.outputs.map((o) => (o === from ? to : o)));
    graph.replaceAllUses(from, to);
    graph.valueInfo.delete(from);
  } else {
    // A subgraph output named `to` would be left pointing at nothing.
    if (nested.has(to)) return false;
    graph.removeNode(node);
    graph.replaceAllUses(to, from);
    graph.valueInfo.delete(to);
  }
  return true;
}

/** Output names of the graphs nested in `graph` (replaceAllUses does not rename those). */
function nestedOutputNames(graph: Graph): Set<string> {
  const names = new Set<string>();
  for (const g of graph.graphs()) if (g !== graph) for (const o of g.outputs) names.add(o.name);
  return names;
}
