/**
 * Computes constant values of a model in ONNX Runtime: the main-graph nodes the requested values
 * depend on become a model of their own, with the initializers they read and no inputs, which runs
 * once. This is the `evaluate` that constant folding (src/passes/prepare/fold-constants.ts) takes.
 */
import { QuantkitError } from '../errors.js';
import { makeGraph, makeModel } from '../onnx/builders.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import type { Tensor } from '../onnx/tensor.js';
import { makeValueInfo } from '../onnx/value-info.js';
import { definitionOf } from '../passes/prepare/constants.js';
import type { NdArray } from '../tensor/ndarray.js';
import { Runner } from './session.js';

export async function evaluateConstants(model: Model, outputs: string[]): Promise<Record<string, NdArray>> {
  const wanted = [...new Set(outputs)];
  const g = model.graph;
  const nodes = new Set<Node>();
  const initializers = new Map<string, Tensor>();
  const stack = [...wanted];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (name === '' || seen.has(name)) continue;
    seen.add(name);
    const d = definitionOf(model, g, name);
    if (d.kind === 'constant') {
      initializers.set(name, d.tensor);
    } else if (d.kind === 'node') {
      if (d.node.subgraphs().length > 0) {
        throw new QuantkitError(
          `cannot evaluate '${name}' as a constant: it depends on ${d.node.label}, which has subgraphs`,
        );
      }
      nodes.add(d.node);
      stack.push(...d.node.inputs);
    } else {
      throw new QuantkitError(`'${name}' is not a constant: it is, or depends on, a graph input`);
    }
  }
  const graph = makeGraph({
    name: 'constants',
    // Copies: a node belongs to one graph.
    nodes: g
      .topologicalOrder()
      .filter((n) => nodes.has(n))
      .map(
        (n) =>
          new Node(n.opType, n.inputs, n.outputs, {
            name: n.name,
            domain: n.domain,
            attributes: n.attributes(),
          }),
      ),
    inputs: [],
    outputs: wanted.map((name) => makeValueInfo(name)),
    initializers: [...initializers.values()],
  });
  const runner = await Runner.create(
    makeModel(graph, { opsets: model.opsets(), irVersion: model.irVersion }),
    {
      optimization: 'disabled',
    },
  );
  try {
    const results = await runner.run({});
    const out: Record<string, NdArray> = {};
    for (const name of wanted) {
      const r = results[name];
      if (r.dtype === 'string')
        throw new QuantkitError(`constant '${name}' holds strings; only numeric constants are evaluated`);
      out[name] = r;
    }
    return out;
  } finally {
    await runner.release();
  }
}
