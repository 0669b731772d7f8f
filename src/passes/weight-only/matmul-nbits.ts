/**
 * The QOperator form: com.microsoft.MatMulNBits (layout in nbits-layout.ts), which ONNX Runtime runs
 * with packed integer kernels on CPU (MLAS), WebAssembly and WebGPU.
 */
import type { BlockQuantized } from '../../algorithms/blocked-weight.js';
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import type { TensorSink } from '../../onnx/tensor-sink.js';
import { nbitsBlocks, packNBitsWeight, packNBitsZeroPoints } from './nbits-layout.js';
import type { Projection } from './projection.js';
import { replaceNode } from './replace-node.js';

export const MS_DOMAIN = 'com.microsoft';

/** The initializer names of one quantized weight, and their total size. */
export interface NBitsWeight {
  b: string;
  scales: string;
  zeroPoints: string | undefined;
  bytes: number;
}

/** Adds the weight's MatMulNBits initializers to `owner`, named after `base` (through `sink`, if given). */
export function addNBitsWeight(
  owner: Graph,
  base: string,
  q: BlockQuantized,
  sink?: TensorSink,
): NBitsWeight {
  const { blocks, blobSize, zeroPointBytes } = nbitsBlocks(q);
  const b = Tensor.fromArray(
    owner.uniqueName(`${base}_Q${q.bits}`),
    'uint8',
    [q.n, blocks, blobSize],
    packNBitsWeight(q),
  );
  const scales = Tensor.fromArray(owner.uniqueName(`${base}_scales`), 'float32', [q.n, blocks], q.scales);
  const packed = packNBitsZeroPoints(q);
  const zeroPoints =
    packed &&
    Tensor.fromArray(owner.uniqueName(`${base}_zero_points`), 'uint8', [q.n, zeroPointBytes], packed);
  let bytes = 0;
  for (const t of [b, scales, zeroPoints]) {
    if (!t) continue;
    owner.addInitializer(sink ? sink.store(t) : t);
    bytes += t.byteLength;
  }
  return { b: b.name, scales: scales.name, zeroPoints: zeroPoints?.name, bytes };
}

export interface NBitsAttributes {
  bits: number;
  blockSize: number;
  accuracyLevel: number | undefined;
}

/** Replaces `node` by MatMulNBits; a [N] bias goes into its bias input, any other into an Add. */
export function emitMatMulNBits(
  graph: Graph,
  node: Node,
  p: Projection,
  w: NBitsWeight,
  attrs: NBitsAttributes,
): void {
  const vectorBias = p.bias?.vector ? p.bias.name : undefined;
  // Inputs: A, B, scales, zero_points, g_idx (deprecated, never written), bias; '' skips an optional one.
  const inputs = [p.input, w.b, w.scales, w.zeroPoints ?? '', '', vectorBias ?? ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const attributes = [
    Attribute.int('K', p.k),
    Attribute.int('N', p.n),
    Attribute.int('bits', attrs.bits),
    Attribute.int('block_size', attrs.blockSize),
  ];
  if (attrs.accuracyLevel !== undefined)
    attributes.push(Attribute.int('accuracy_level', attrs.accuracyLevel));
  const name = node.name ? graph.uniqueName(`${node.name}_Q${attrs.bits}`) : '';
  replaceNode(graph, node, p, vectorBias !== undefined, (output) => [
    new Node('MatMulNBits', inputs, [output], { name, domain: MS_DOMAIN, attributes }),
  ]);
}
