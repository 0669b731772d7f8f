/** Swapping a MatMul/Gemm for the nodes computing A · W, and an Add for a bias they do not take. */
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import type { Projection } from './projection.js';

/**
 * Adds `make(output)` before `node` (the nodes computing A · W into `output`, plus the bias when
 * `biasTaken`), then an Add of the bias if there is one left, and removes `node`. The final value
 * keeps the node's output name, so every reader and graph output stays as it was.
 */
export function replaceNode(
  graph: Graph,
  node: Node,
  projection: Projection,
  biasTaken: boolean,
  make: (output: string) => Node[],
): void {
  const result = node.outputs[0];
  const bias = biasTaken ? undefined : projection.bias;
  const product = bias ? graph.uniqueName(`${result}_product`) : result;
  for (const n of make(product)) graph.addNode(n, { before: node });
  if (bias) {
    const name = node.name ? graph.uniqueName(`${node.name}_bias`) : '';
    graph.addNode(new Node('Add', [product, bias.name], [result], { name }), { before: node });
  }
  graph.removeNode(node);
}
