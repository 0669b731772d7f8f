/**
 * What a rewriting pass did with each node it considered: one line per node, so that the CLI can list
 * every node that was rewritten and every node that was left alone, with the reason.
 */
import type { Graph } from '../onnx/graph.js';
import type { Node } from '../onnx/node.js';
import type { NodeFilter } from './node-filter.js';

export interface NodeOutcome {
  /** The node's name, or its op type and first output when it has none. */
  node: string;
  opType: string;
  /** 'main', or the path to the subgraph holding the node, e.g. "If_0.then_branch". */
  graph: string;
  /** True when the pass rewrote the node. */
  done: boolean;
  /** One short line: what was done, or (when not done) why the node stays as it was. */
  note: string;
}

export function nodeOutcome(node: Node, graph: Graph, done: boolean, note: string): NodeOutcome {
  return {
    node: node.name || `${node.opType} → ${node.outputs[0] ?? ''}`,
    opType: node.opType,
    graph: graphPath(graph),
    done,
    note,
  };
}

/** 'main' for the model's graph; owner node and attribute names, dot-separated, for subgraphs. */
export function graphPath(graph: Graph): string {
  const owner = graph.owner;
  if (!owner?.graph) return 'main';
  const attr = owner.attributes().find((a) => a.graphs.includes(graph));
  const step = `${owner.name || owner.opType}.${attr?.name ?? 'body'}`;
  const outer = graphPath(owner.graph);
  return outer === 'main' ? step : `${outer}.${step}`;
}

/** Why `nodeSelected(node, filter)` refused a node, in the words of the option that did it. */
export function filterReason(node: Node, filter: NodeFilter): string {
  if (filter.excludeNodes?.includes(node.name)) return 'excluded by name (excludeNodes)';
  if (filter.excludeOpTypes?.includes(node.opType)) return `${node.opType} is excluded (excludeOpTypes)`;
  return `${node.opType} is not among the selected op types (opTypes)`;
}
