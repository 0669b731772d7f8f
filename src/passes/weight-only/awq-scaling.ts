/**
 * Applying AWQ's per-channel scales s to a group of layers reading one value x: each layer's weight
 * rows (input channels) are multiplied by s and x is divided by s, so the model computes the same
 * function before quantization. The division is folded into x's producer when x feeds only the group
 * and the producer is linear per channel in a constant:
 *   LayerNormalization (over the last axis) / SimplifiedLayerNormalization: scale (and bias) ÷ s;
 *   Mul by a constant of one value or one per channel: the constant ÷ s;
 *   MatMul by a constant [K′, K] weight, possibly followed by Add of a constant [K] bias: the weight's
 *   columns and the bias ÷ s;
 *   Mul of two activations, one of them such a MatMul read by the Mul alone (SwiGLU's
 *   silu(gate)·up, as AWQ's reference folds LLaMA's down_proj scale into up_proj): that MatMul;
 * otherwise an explicit Mul by 1/s is put in front of the group. Constants that something else also
 * reads are copied, never changed under it.
 */
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { constantFloat, type ConstantTensor } from './constant-matrix.js';

/** Scales the group's weights by s and folds 1/s upstream; returns where 1/s went, for the report. */
export function applyChannelScales(
  graph: Graph,
  value: string,
  members: readonly Node[],
  s: Float32Array,
): string {
  const group = new Set(members);
  const done = new Set<string>();
  for (const node of members) {
    if (done.has(node.inputs[1])) continue;
    done.add(node.inputs[1]);
    scaleWeightRows(graph, node, members, s);
  }
  const folded = foldIntoProducer(graph, value, group, s);
  if (folded) return folded;
  const inverse = graph.uniqueName(`${value}_awq_inverse_scale`);
  graph.addInitializer(
    Tensor.fromArray(
      inverse,
      'float32',
      [s.length],
      s.map((v) => 1 / v),
    ),
  );
  const scaled = graph.uniqueName(`${value}_awq_scaled`);
  const mul = new Node('Mul', [value, inverse], [scaled], { name: graph.uniqueName(`${value}_AwqScale`) });
  graph.insertOnEdge(value, mul, members);
  return `1/s applied by an inserted Mul '${mul.name}'`;
}

/** Multiplies input channel r of the node's weight by s[r] (rows of a [K, N] B, columns under transB). */
function scaleWeightRows(graph: Graph, node: Node, members: readonly Node[], s: Float32Array): void {
  const name = node.inputs[1];
  const found = constantFloat(graph, name) as ConstantTensor;
  const transposed = node.opType === 'Gemm' && node.getInt('transB', 0) !== 0;
  const [rows, cols] = found.tensor.dims;
  const data = found.tensor.toFloat32().slice();
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) data[r * cols + c] *= transposed ? s[c] : s[r];
  }
  const readers = members.filter((m) => m.inputs[1] === name);
  replaceConstant(found, data, new Set(readers), (copy) => readers.forEach((m) => m.setInput(1, copy)));
}

function foldIntoProducer(
  graph: Graph,
  value: string,
  group: ReadonlySet<Node>,
  s: Float32Array,
): string | undefined {
  // Shape and Size read only the dimensions, which the scale leaves alone.
  const others = graph
    .consumers(value)
    .filter((c) => !group.has(c) && !(c.isStandard && SHAPE_ONLY.has(c.opType)));
  if (graph.isGraphOutput(value) || others.length > 0) return undefined;
  const producer = graph.producer(value);
  if (!producer || producer.outputs[0] !== value) return undefined;
  const k = s.length;
  const divide = (c: ConstantTensor, reader: Node, index: number) =>
    replaceConstant(c, perChannel(c.tensor.toFloat32(), k, s), new Set([reader]), (n) =>
      reader.setInput(index, n),
    );
  const what = `${producer.opType} '${producer.name || producer.outputs[0]}'`;
  if (isLayerNorm(producer)) {
    const consts = [1, 2]
      .filter((i) => (producer.inputs[i] ?? '') !== '')
      .map((i) => [i, channelConstant(graph, producer.inputs[i], k)] as const);
    if (consts.some(([, c]) => !c || c.tensor.size !== k)) return undefined;
    for (const [i, c] of consts) divide(c!, producer, i);
    return `1/s folded into ${what}`;
  }
  if (producer.isStandard && producer.opType === 'Mul') {
    const at = [0, 1].find((i) => channelConstant(graph, producer.inputs[i], k) !== undefined);
    if (at !== undefined) {
      divide(channelConstant(graph, producer.inputs[at], k)!, producer, at);
      return `1/s folded into ${what}`;
    }
    // Channel c of a product scales with channel c of either factor.
    for (const factor of producer.inputs) {
      const m = graph.producer(factor);
      if (!m || graph.isGraphOutput(factor) || graph.consumers(factor).length !== 1) continue;
      const chain = matmulChain(graph, m, k);
      if (chain) return `${foldIntoColumns(graph, chain, k, s)} (a factor of ${what})`;
    }
    return undefined;
  }
  const chain = matmulChain(graph, producer, k);
  return chain ? foldIntoColumns(graph, chain, k, s) : undefined;
}

function foldIntoColumns(
  graph: Graph,
  chain: NonNullable<ReturnType<typeof matmulChain>>,
  k: number,
  s: Float32Array,
): string {
  const w = chain.matmul;
  const weight = constantFloat(graph, w.inputs[1]) as ConstantTensor;
  const [rows] = weight.tensor.dims;
  const data = weight.tensor.toFloat32().slice();
  for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++) data[r * k + c] /= s[c];
  replaceConstant(weight, data, new Set([w]), (n) => w.setInput(1, n));
  const { add, bias, biasIndex } = chain;
  if (add && bias && biasIndex !== undefined) {
    replaceConstant(bias, perChannel(bias.tensor.toFloat32(), k, s), new Set([add]), (n) =>
      add.setInput(biasIndex, n),
    );
  }
  return `1/s folded into the output columns of MatMul '${w.name || w.outputs[0]}'`;
}

const SHAPE_ONLY = new Set(['Shape', 'Size']);

function isLayerNorm(node: Node): boolean {
  if (node.isStandard && node.opType === 'LayerNormalization') return node.getInt('axis', -1) === -1;
  return (
    node.domain === 'com.microsoft' &&
    node.opType === 'SimplifiedLayerNormalization' &&
    node.getInt('axis', -1) === -1
  );
}

/** A float32 constant holding one value, or one per channel along the last axis. */
function channelConstant(graph: Graph, name: string, k: number): ConstantTensor | undefined {
  const c = constantFloat(graph, name);
  if (typeof c === 'string') return undefined;
  const d = c.tensor.dims;
  if (c.tensor.size === 1 || (d[d.length - 1] === k && c.tensor.size === k)) return c;
  return undefined;
}

/** MatMul(y, W[K′, K]) → value, or → Add(·, bias[K]) → value, the MatMul's output read by the Add only. */
function matmulChain(graph: Graph, producer: Node, k: number) {
  const isWeighted = (n: Node | undefined) => {
    if (!n?.isStandard || n.opType !== 'MatMul') return false;
    const w = constantFloat(graph, n.inputs[1]);
    return typeof w !== 'string' && w.tensor.dims.length === 2 && w.tensor.dims[1] === k;
  };
  if (isWeighted(producer)) return { matmul: producer };
  if (!producer.isStandard || producer.opType !== 'Add') return undefined;
  for (const i of [0, 1]) {
    const m = graph.producer(producer.inputs[i]);
    const bias = channelConstant(graph, producer.inputs[1 - i], k);
    if (
      m &&
      isWeighted(m) &&
      bias &&
      bias.tensor.size === k &&
      graph.consumers(m.outputs[0]).length === 1 &&
      !graph.isGraphOutput(m.outputs[0])
    ) {
      return { matmul: m, add: producer, bias, biasIndex: 1 - i };
    }
  }
  return undefined;
}

/** c ÷ s per channel, as a [K] array (a single value is broadcast first). */
function perChannel(c: Float32Array, k: number, s: Float32Array): Float32Array {
  return Float32Array.from({ length: k }, (_, i) => (c.length === 1 ? c[0] : c[i]) / s[i]);
}

/**
 * Puts `data` in place of the constant: in place when only `readers` read it, else as a copy under a
 * new name that `repoint` makes the readers use. A one-value constant becomes [K].
 */
function replaceConstant(
  { tensor, owner }: ConstantTensor,
  data: Float32Array,
  readers: ReadonlySet<Node>,
  repoint: (name: string) => void,
): void {
  const dims = data.length === tensor.size ? tensor.dims : [data.length];
  const exclusive =
    !owner.isGraphOutput(tensor.name) && owner.consumers(tensor.name).every((n) => readers.has(n));
  if (exclusive) {
    owner.removeInitializer(tensor.name);
    owner.addInitializer(Tensor.fromArray(tensor.name, 'float32', dims, data));
    return;
  }
  const name = owner.uniqueName(`${tensor.name}_awq`);
  owner.addInitializer(Tensor.fromArray(name, 'float32', dims, data));
  repoint(name);
}
