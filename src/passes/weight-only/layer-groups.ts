/**
 * The layers AWQ and GPTQ take, grouped by the value they read (q/k/v projections reading one
 * normalisation form one group: they share calibration statistics, and AWQ's scales), in the order a
 * segment walker reaches them.
 */
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { nodeSelected } from '../node-filter.js';
import { constantMatrix } from './constant-matrix.js';
import { outputProjections } from './lm-head.js';
import type { ResolvedWeightOnlyOptions } from './options.js';

/** Layers reading one value in one graph: they share calibration statistics (and AWQ's scales). */
export interface Group {
  graph: Graph;
  value: string;
  k: number;
  members: Node[];
}

/** Where a walker stops to observe a group: before its first layer, or after the node holding it. */
export function stopFor(model: Model, group: Group): { stop: Node; inclusive: boolean } {
  const main = model.graph;
  if (group.graph === main) {
    const first = group.members.reduce((a, b) => (main.nodes.indexOf(b) < main.nodes.indexOf(a) ? b : a));
    return { stop: first, inclusive: false };
  }
  let g = group.graph;
  while (g.parent && g.parent !== main) g = g.parent;
  return { stop: g.owner!, inclusive: true };
}

/**
 * The layers the calibrated algorithms take, grouped by input, in graph order: MatMul and Gemm nodes
 * that quantizeWeightOnly would rewrite, except Gemm with transA (its rows are A's columns; it is
 * rounded to nearest).
 */
export function layerGroups(model: Model, o: ResolvedWeightOnlyOptions): Group[] {
  const heads = o.keepLmHead ? outputProjections(model.graph) : new Set<Node>();
  const groups = new Map<string, Group>();
  const graphIds = new Map<Graph, number>();
  for (const { node, graph } of model.graph.walk()) {
    if (!node.isStandard || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) continue;
    if (!nodeSelected(node, o.filter) || heads.has(node)) continue;
    if (node.opType === 'Gemm' && node.getInt('transA', 0) !== 0) continue;
    const weight = constantMatrix(graph, node.inputs[1]);
    if (typeof weight === 'string') continue;
    const [rows, cols] = weight.tensor.dims;
    const k = node.opType === 'Gemm' && node.getInt('transB', 0) !== 0 ? cols : rows;
    let id = graphIds.get(graph);
    if (id === undefined) graphIds.set(graph, (id = graphIds.size));
    const key = `${id}\u0000${node.inputs[0]}`;
    const group = groups.get(key) ?? { graph, value: node.inputs[0], k, members: [] };
    groups.set(key, group);
    if (group.k === k) group.members.push(node);
  }
  const main = model.graph;
  const position = (g: Group) => {
    const { stop, inclusive } = stopFor(model, g);
    return main.nodes.indexOf(stop) + (inclusive ? 0.5 : 0);
  };
  return [...groups.values()].sort((a, b) => position(a) - position(b));
}

/** Each distinct weight of a group once (nodes sharing a weight share its quantized form). */
export function distinctWeights(group: Group) {
  const seen = new Set<string>();
  const out = [];
  for (const node of group.members) {
    const weight = constantMatrix(group.graph, node.inputs[1]);
    if (typeof weight === 'string' || seen.has(weight.tensor.name)) continue;
    seen.add(weight.tensor.name);
    out.push({ node, weight });
  }
  return out;
}
