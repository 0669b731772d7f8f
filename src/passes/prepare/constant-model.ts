/**
 * The model constant folding hands to the evaluator: the foldable nodes of every graph in one flat
 * graph with no inputs, holding the initializers they read. Sibling subgraphs (the two branches of an
 * If) may reuse value and node names, so colliding names get a suffix in the flat graph.
 */
import { makeGraph, makeModel } from '../../onnx/builders.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import { Node } from '../../onnx/node.js';
import type { Tensor } from '../../onnx/tensor.js';
import { makeValueInfo } from '../../onnx/value-info.js';
import type { ConstantPlan, FoldValue } from './constant-plan.js';
import { definitionOf } from './constants.js';

export interface ConstantModel {
  model: Model;
  /** The flat-graph name of each requested value, in request order. */
  outputs: string[];
}

export function buildConstantModel(plan: ConstantPlan, wanted: readonly FoldValue[]): ConstantModel {
  const names = new FlatNames();
  const nodeNames = new Set<string>();
  const initializers: Tensor[] = [];
  const nodes = plan.nodes.map((node) => {
    const graph = node.graph!;
    const inputs = node.inputs.map((name) => {
      if (name === '') return '';
      const d = definitionOf(plan.model, graph, name);
      const { flat, fresh } = names.get(d.graph!, name);
      if (fresh && d.kind === 'constant') initializers.push(d.tensor.renamed(flat));
      return flat;
    });
    const outputs = node.outputs.map((name) => (name === '' ? '' : names.get(graph, name).flat));
    return new Node(node.opType, inputs, outputs, {
      name: node.name === '' ? '' : unique(node.name, nodeNames),
      domain: node.domain,
      attributes: node.attributes(),
    });
  });
  const outputs = wanted.map((v) => names.get(v.graph, v.name).flat);
  const graph = makeGraph({
    name: 'constants',
    nodes,
    inputs: [],
    outputs: outputs.map((name) => makeValueInfo(name)),
    initializers,
  });
  return {
    model: makeModel(graph, { opsets: plan.model.opsets(), irVersion: plan.model.irVersion }),
    outputs,
  };
}

/** One flat name per (defining graph, name). */
class FlatNames {
  private readonly byGraph = new Map<Graph, Map<string, string>>();
  private readonly used = new Set<string>();

  get(graph: Graph, name: string): { flat: string; fresh: boolean } {
    let names = this.byGraph.get(graph);
    if (!names) this.byGraph.set(graph, (names = new Map()));
    const known = names.get(name);
    if (known !== undefined) return { flat: known, fresh: false };
    const flat = unique(name, this.used);
    names.set(name, flat);
    return { flat, fresh: true };
  }
}

function unique(base: string, used: Set<string>): string {
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}__${i}`;
  used.add(name);
  return name;
}
