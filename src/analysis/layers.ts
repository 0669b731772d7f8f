/**
 * Which layer a tensor belongs to, for people reading a ranking: the node writing it, or — for the
 * output of a Relu/Clip that a quantized Conv/MatMul/Gemm absorbs — that layer.
 */
import type { Graph } from '../onnx/graph.js';
import type { Node } from '../onnx/node.js';
import { ABSORBED_ACTIVATIONS, OP_RULES } from '../passes/qdq/op-rules.js';

export interface LayerRef {
  name: string;
  opType: string;
}

export function layerOf(g: Graph, tensor: string): LayerRef {
  const p = g.producer(tensor);
  if (!p) return { name: g.isGraphInput(tensor) ? `input ${tensor}` : tensor, opType: 'input' };
  const before = ABSORBED_ACTIVATIONS.has(p.opType) ? g.producer(p.inputs[0]) : undefined;
  const absorbed = before && isComputeLayer(before) && g.consumers(p.inputs[0]).length === 1;
  return refOf(absorbed ? before : p);
}

export function refOf(node: Node): LayerRef {
  return { name: layerName(node), opType: node.opType };
}

/** The node's name, or its op type and first output when it has none (as pass reports name nodes). */
export function layerName(node: Node): string {
  return node.name || `${node.opType} → ${node.outputs[0] ?? ''}`;
}

/** Conv, ConvTranspose, MatMul, Gemm: the ops whose quantization is a layer's own choice. */
export function isComputeLayer(node: Node): boolean {
  return node.isStandard && OP_RULES[node.opType]?.kind === 'compute';
}
