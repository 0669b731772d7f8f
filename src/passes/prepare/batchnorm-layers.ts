/**
 * The layers a BatchNormalization can be folded into — Conv (any group count), ConvTranspose, Gemm,
 * MatMul followed by a bias Add — and, for each, where its weight and bias are. A layer qualifies
 * only when its weight and bias are float32 constants and the value between it and the
 * BatchNormalization is read by nothing else.
 */
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import type { Tensor } from '../../onnx/tensor.js';
import type { WeightLayout } from './batchnorm-math.js';
import { constantTensor } from './constants.js';

export interface FoldSite {
  /** The node whose weight (input 1) absorbs the scale. */
  layer: Node;
  weight: Tensor;
  layout: WeightLayout;
  /** The node and input slot holding the bias: the layer itself, or the Add after a MatMul. */
  biasNode: Node;
  biasInput: number;
  /** The bias as rows × channels (row-major), already multiplied by Gemm's beta; absent means zero. */
  bias: Float64Array | undefined;
  biasRows: number;
  /** Shape of the folded bias. */
  biasDims: number[];
  /** The node writing the BatchNormalization's input. */
  tail: Node;
}

/** The site to fold into, or why there is none. */
export function findFoldSite(model: Model, graph: Graph, value: string, channels: number): FoldSite | string {
  const tail = graph.producer(value);
  if (!tail || !tail.isStandard)
    return `its input '${value}' does not come from a Conv, ConvTranspose, Gemm or MatMul+Add`;
  const read = readOnlyBy(graph, value, 'its input');
  if (read) return read;
  switch (tail.opType) {
    case 'Conv':
    case 'ConvTranspose':
      return convSite(model, graph, tail, channels);
    case 'Gemm':
      return gemmSite(model, graph, tail, channels);
    case 'Add':
      return matMulAddSite(model, graph, tail, channels);
    default:
      return `its input '${value}' comes from ${tail.opType}, not a Conv, ConvTranspose, Gemm or MatMul+Add`;
  }
}

function convSite(model: Model, graph: Graph, conv: Node, channels: number): FoldSite | string {
  const weight = floatConstant(model, graph, conv.inputs[1], 'weight');
  if (typeof weight === 'string') return weight;
  const dims = weight.dims;
  if (dims.length < 3) return `${conv.label} has a weight of rank ${dims.length}`;
  let layout: WeightLayout = { kind: 'rows' };
  let outChannels = dims[0];
  if (conv.opType === 'ConvTranspose') {
    const group = conv.getInt('group', 1);
    if (group < 1 || dims[0] % group !== 0)
      return `${conv.label} has group ${group}, which does not divide ${dims[0]}`;
    layout = { kind: 'convTranspose', group };
    outChannels = dims[1] * group;
  }
  if (outChannels !== channels) {
    return `${conv.label} has ${outChannels} output channels, the BatchNormalization ${channels}`;
  }
  const bias = optionalBias(model, graph, conv.inputs[2] ?? '', channels, conv);
  if (typeof bias === 'string') return bias;
  return {
    layer: conv,
    weight,
    layout,
    biasNode: conv,
    biasInput: 2,
    bias,
    biasRows: 1,
    biasDims: [channels],
    tail: conv,
  };
}

function gemmSite(model: Model, graph: Graph, gemm: Node, channels: number): FoldSite | string {
  const weight = floatConstant(model, graph, gemm.inputs[1], 'weight');
  if (typeof weight === 'string') return weight;
  if (weight.dims.length !== 2) return `${gemm.label} has a weight of rank ${weight.dims.length}`;
  const transB = gemm.getInt('transB', 0) !== 0;
  const n = transB ? weight.dims[0] : weight.dims[1];
  if (n !== channels) return `${gemm.label} has ${n} output channels, the BatchNormalization ${channels}`;
  const layout: WeightLayout = transB ? { kind: 'rows' } : { kind: 'columns' };
  const cName = gemm.inputs[2] ?? '';
  const base = { layer: gemm, weight, layout, biasNode: gemm, biasInput: 2, tail: gemm };
  if (cName === '') return { ...base, bias: undefined, biasRows: 1, biasDims: [n] };
  const c = floatConstant(model, graph, cName, 'bias');
  if (typeof c === 'string') return c;
  // C broadcasts to [M, N]: a scalar, [N], [1], or [rows, N|1].
  const d = c.dims;
  const cols = d.length === 0 ? 1 : d[d.length - 1];
  const rows = d.length === 2 ? d[0] : 1;
  if (d.length > 2 || (cols !== 1 && cols !== n)) {
    return `${gemm.label} has a bias of shape [${d.join(', ')}], which does not broadcast over ${n} channels`;
  }
  const beta = gemm.getFloat('beta', 1);
  const values = c.toFloat32();
  const bias = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) bias[r * n + j] = beta * values[r * cols + (cols === 1 ? 0 : j)];
  return { ...base, bias, biasRows: rows, biasDims: d.length === 2 ? [rows, n] : [n] };
}

function matMulAddSite(model: Model, graph: Graph, add: Node, channels: number): FoldSite | string {
  const side = [0, 1].find((i) => {
    const p = graph.producer(add.inputs[i]);
    return p?.opType === 'MatMul' && p.isStandard;
  });
  if (side === undefined) return `its input comes from an Add that does not follow a MatMul`;
  const mmOut = add.inputs[side];
  const matmul = graph.producer(mmOut)!;
  const read = readOnlyBy(graph, mmOut, `the MatMul output`);
  if (read) return read;
  const weight = floatConstant(model, graph, matmul.inputs[1], 'weight');
  if (typeof weight === 'string') return weight;
  if (weight.dims.length !== 2 || weight.dims[1] !== channels) {
    return `${matmul.label} has a weight of shape [${weight.dims.join(', ')}], not [K, ${channels}]`;
  }
  // BatchNormalization normalizes axis 1, which is the MatMul's output channel axis only in 2-D.
  const ranks = [matmul.inputs[0], mmOut, add.outputs[0]].map((v) => graph.tensorType(v).shape?.length);
  if (!ranks.includes(2)) return `${matmul.label}'s output is not known to be 2-D`;
  const biasName = add.inputs[1 - side];
  const bias = floatConstant(model, graph, biasName, 'bias');
  if (typeof bias === 'string') return bias;
  if (bias.dims.length !== 1 || bias.dims[0] !== channels) {
    return `the bias '${biasName}' after ${matmul.label} has shape [${bias.dims.join(', ')}], not [${channels}]`;
  }
  return {
    layer: matmul,
    weight,
    layout: { kind: 'columns' },
    biasNode: add,
    biasInput: 1 - side,
    bias: Float64Array.from(bias.toFloat32()),
    biasRows: 1,
    biasDims: [channels],
    tail: add,
  };
}

function optionalBias(
  model: Model,
  graph: Graph,
  name: string,
  channels: number,
  layer: Node,
): Float64Array | undefined | string {
  if (name === '') return undefined;
  const t = floatConstant(model, graph, name, 'bias');
  if (typeof t === 'string') return t;
  if (t.size !== channels) return `${layer.label} has a bias of ${t.size} values for ${channels} channels`;
  return Float64Array.from(t.toFloat32());
}

function floatConstant(model: Model, graph: Graph, name: string, what: string): Tensor | string {
  const t = constantTensor(model, graph, name);
  if (!t) return `the layer's ${what} '${name}' is not a constant initializer`;
  if (t.dtype !== 'float32')
    return `the layer's ${what} '${name}' is ${t.dtype}; only float32 layers are folded`;
  return t;
}

function readOnlyBy(graph: Graph, value: string, what: string): string | undefined {
  if (graph.isGraphOutput(value)) return `${what} '${value}' is a graph output`;
  const n = graph.consumers(value).length;
  return n > 1 ? `${what} '${value}' has ${n} readers` : undefined;
}
