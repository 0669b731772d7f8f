/**
 * The QDQ form, for runtimes without com.microsoft.MatMulNBits: DequantizeLinear (opset 21) with
 * axis 0 and block_size over the [K, N] integer weight, then a plain MatMul. Scales and zero points
 * are [k_blocks, N]. Weights whose zero points are all 2^(bits−1) (symmetric) are stored signed
 * (int4/int8, code − 2^(bits−1)) without a zero point, as ONNX Runtime's quantizer writes them; others
 * unsigned (uint4/uint8) with one. ONNX Runtime's optimizer fuses DequantizeLinear → MatMul back into
 * MatMulNBits (with accuracy_level 4 by default); 1.30 skips the fusion for a MatMul feeding a Relu
 * that feeds another MatMul (measured).
 */
import type { BlockQuantized } from '../../algorithms/blocked-weight.js';
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import type { TensorSink } from '../../onnx/tensor-sink.js';
import { defaultZeroPoint } from './nbits-layout.js';
import type { Projection } from './projection.js';
import { replaceNode } from './replace-node.js';

export interface BlockedWeight {
  /** The DequantizeLinear output: the float weight every MatMul using it reads. */
  value: string;
  /** Bytes of the integer weight, scales and zero points. */
  bytes: number;
}

/**
 * Adds the weight's initializers and its DequantizeLinear to `owner`, the graph holding the float
 * original, named after `base`. A MatMul in a subgraph reads the result from the outer scope: ONNX
 * Runtime 1.30 fails to load a DequantizeLinear whose integer weight is an outer-scope initializer
 * (its MatMulNBits fusion looks for the weight in the node's own graph). Initializers go through
 * `sink`, if given.
 */
export function addBlockedWeight(
  owner: Graph,
  base: string,
  q: BlockQuantized,
  blockSize: number,
  sink?: TensorSink,
): BlockedWeight {
  const { k, n, bits, blocks } = q;
  const middle = defaultZeroPoint(bits);
  const signed = q.zeroPoints.every((z) => z === middle);
  // 3-bit codes are stored in 4-bit types (DequantizeLinear has no 3-bit type).
  const type = `${signed ? '' : 'u'}int${bits === 3 ? 4 : bits}` as 'int4' | 'uint4' | 'int8' | 'uint8';
  const values = signed ? new Int8Array(k * n) : new Uint8Array(k * n);
  const offset = signed ? middle : 0;
  for (let c = 0; c < n; c++) {
    for (let r = 0, i = c * k; r < k; r++, i++) values[r * n + c] = q.codes[i] - offset;
  }
  const scales = new Float32Array(blocks * n);
  const zeros = new Uint8Array(blocks * n);
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < blocks; b++) {
      scales[b * n + c] = q.scales[c * blocks + b];
      zeros[b * n + c] = q.zeroPoints[c * blocks + b];
    }
  }
  const tensors = [
    Tensor.fromArray(owner.uniqueName(`${base}_DQ_Q${bits}`), type, [k, n], values),
    Tensor.fromArray(owner.uniqueName(`${base}_DQ_scales`), 'float32', [blocks, n], scales),
  ];
  if (!signed)
    tensors.push(Tensor.fromArray(owner.uniqueName(`${base}_DQ_zero_points`), type, [blocks, n], zeros));
  let bytes = 0;
  for (const t of tensors) {
    owner.addInitializer(sink ? sink.store(t) : t);
    bytes += t.byteLength;
  }
  const value = owner.uniqueName(`${base}_dequantized`);
  owner.addNode(
    new Node(
      'DequantizeLinear',
      tensors.map((t) => t.name),
      [value],
      {
        name: owner.uniqueName(`${base}_DequantizeLinear`),
        attributes: [Attribute.int('axis', 0), Attribute.int('block_size', blockSize)],
      },
    ),
  );
  return { value, bytes };
}

/** Replaces `node` by a MatMul of the dequantized weight (→ Add for a bias). */
export function emitBlockedMatMul(graph: Graph, node: Node, p: Projection, w: BlockedWeight): void {
  const name = node.name ? graph.uniqueName(`${node.name}_Q`) : '';
  replaceNode(graph, node, p, false, (output) => [
    new Node('MatMul', [p.input, w.value], [output], { name }),
  ]);
}
