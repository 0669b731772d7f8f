/**
 * The output projection ("LM head") of a model: the MatMul/Gemm nodes nearest its first output,
 * found by walking back from that output through any other nodes and stopping at each MatMul/Gemm.
 * Only the first output is followed: decoder exports list the logits first, and their other outputs
 * (present key/value caches) lead back to every layer's projections, which are not the head.
 */
import type { Graph } from '../../onnx/graph.js';
import type { Node } from '../../onnx/node.js';

const PROJECTIONS = new Set(['MatMul', 'Gemm']);

export function outputProjections(graph: Graph): Set<Node> {
  const found = new Set<Node>();
  const first = graph.outputs[0]?.name;
  if (first === undefined) return found;
  const seen = new Set<Node>();
  const pending: string[] = [first];
  while (pending.length > 0) {
    const producer = graph.producer(pending.pop()!);
    if (!producer || seen.has(producer)) continue;
    seen.add(producer);
    if (producer.isStandard && PROJECTIONS.has(producer.opType)) found.add(producer);
    else pending.push(...producer.inputs.filter((i) => i !== ''));
  }
  return found;
}
