/** Where each value of a model is defined: the graph whose node, input or initializer produces it. */
import type { Graph } from './graph.js';
import type { Model } from './model.js';

export function definingGraphs(model: Model): Map<string, Graph> {
  const out = new Map<string, Graph>();
  for (const g of model.graph.graphs()) {
    for (const vi of g.inputs) out.set(vi.name, g);
    for (const name of g.initializers.keys()) out.set(name, g);
    for (const n of g.nodes) for (const o of n.outputs) if (o) out.set(o, g);
  }
  return out;
}
