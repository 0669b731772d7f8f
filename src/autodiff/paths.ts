/**
 * Which nodes the backward pass visits: those on a path from a parameter to the loss. Values that
 * no parameter influences get no gradient, and branches that do not reach the loss are never
 * differentiated, so the backward graph holds only what the parameters need.
 */
import type { Graph } from '../onnx/graph.js';
import type { Node } from '../onnx/node.js';
import { type DType, dtypeInfo } from '../tensor/dtype.js';

export interface DifferentiablePath {
  /** The nodes to differentiate, in forward (topological) order. */
  nodes: Node[];
  /** True when input `index` of `node` depends on a parameter and can carry a gradient. */
  needs(node: Node, index: number): boolean;
}

/**
 * Integer outputs of QuantizeLinear carry the straight-through gradient of a quantize→dequantize
 * pair: the gradient of the dequantized value flows back through them unchanged but for clipping.
 */
const STRAIGHT_THROUGH = new Set(['QuantizeLinear']);

export function differentiablePath(
  graph: Graph,
  order: readonly Node[],
  parameters: readonly string[],
  loss: string,
  dtypes: ReadonlyMap<string, DType>,
): DifferentiablePath {
  const carries = (v: string) => {
    const t = dtypes.get(v);
    return t === undefined || dtypeInfo(t).kind === 'float';
  };
  const varying = new Set(parameters);
  for (const node of order) {
    const reads = [...node.inputs, ...graph.implicitInputs(node)];
    if (!reads.some((i) => varying.has(i))) continue;
    const ste = node.isStandard && STRAIGHT_THROUGH.has(node.opType);
    for (const o of node.outputs) if (o !== '' && (ste || carries(o))) varying.add(o);
  }
  const reaches = new Set([loss]);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    if (!node.outputs.some((o) => reaches.has(o))) continue;
    for (const v of [...node.inputs, ...graph.implicitInputs(node)]) reaches.add(v);
  }
  return {
    nodes: order.filter((n) => n.outputs.some((o) => reaches.has(o) && varying.has(o))),
    needs: (node, index) => {
      const v = node.inputs[index];
      return v !== undefined && v !== '' && varying.has(v);
    },
  };
}
