/**
 * A MatMul or Gemm seen as what weight-only quantization replaces: Y = A · W (+ bias), with W a
 * constant [K, N] float matrix. Gemm's options fold in here: transA becomes a Transpose of A, alpha
 * and transB go into W (alpha · Bᵀ), and beta · C becomes the bias.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { swapLastAxes } from '../dynamic/transpose.js';
import { constantFloat, constantMatrix, type ConstantTensor } from './constant-matrix.js';

export interface Projection {
  /** A, the activation (for Gemm with transA, a transposed copy). */
  input: string;
  weight: ConstantTensor;
  k: number;
  n: number;
  /** How W derives from the weight tensor: nodes sharing a weight and a form share its quantized copy. */
  form: string;
  /** W as [K, N] float32 values (may be a view of the initializer: read only). */
  matrix(): Float32Array;
  /**
   * The value to add to A · W. `vector`: a constant [N] that MatMulNBits' own bias input can take;
   * otherwise anything Gemm's C broadcasts from, added by an Add node. `replaces`: the constant C a
   * scaled or reshaped copy stands in for, to drop if nothing else reads it.
   */
  bias?: { name: string; vector: boolean; replaces?: ConstantTensor };
}

export function matmulProjection(node: Node, graph: Graph): Projection | string {
  const [a, b] = node.inputs;
  const weight = constantMatrix(graph, b);
  if (typeof weight === 'string') return `B '${b}' ${weight}`;
  const [k, n] = weight.tensor.dims;
  return { input: a, weight, k, n, form: 'matmul', matrix: () => weight.tensor.toFloat32() };
}

/**
 * The Gemm as a projection, adding the Transpose (transA) and scaled bias (beta ≠ 1) it needs before
 * `node`. Checks come first, so a Gemm that cannot be converted leaves the graph untouched.
 */
export function gemmProjection(node: Node, graph: Graph): Projection | string {
  const [a, b, c = ''] = node.inputs;
  const weight = constantMatrix(graph, b);
  if (typeof weight === 'string') return `B '${b}' ${weight}`;
  const alpha = node.getFloat('alpha', 1);
  const beta = node.getFloat('beta', 1);
  const transB = node.getInt('transB', 0) !== 0;
  const [rows, cols] = weight.tensor.dims;
  const [k, n] = transB ? [cols, rows] : [rows, cols];
  const base = node.name || node.outputs[0];
  const input = node.getInt('transA', 0) !== 0 ? transposed(graph, node, a, base) : a;
  const matrix = () => gemmMatrix(weight.tensor.toFloat32(), rows, cols, transB, alpha);
  const bias = c !== '' && beta !== 0 ? gemmBias(graph, node, c, beta, n, base) : undefined;
  // A Gemm that multiplies by B as it is shares the quantized copy with MatMuls reading B.
  const form = transB || alpha !== 1 ? `gemm/${transB ? 't' : 'n'}/${alpha}` : 'matmul';
  return { input, weight, k, n, form, matrix, bias };
}

function transposed(graph: Graph, node: Node, a: string, base: string): string {
  const out = graph.uniqueName(`${a}_transposed`);
  graph.addNode(
    new Node('Transpose', [a], [out], {
      name: graph.uniqueName(`${base}_TransposeA`),
      attributes: [Attribute.ints('perm', [1, 0])],
    }),
    { before: node },
  );
  return out;
}

/** W as [K, N] for a MatMul or Gemm reading the constant `weight` as B, without changing the graph. */
export function weightMatrix(node: Node, weight: ConstantTensor): Float32Array {
  const data = weight.tensor.toFloat32();
  if (node.opType !== 'Gemm') return data;
  const [rows, cols] = weight.tensor.dims;
  return gemmMatrix(data, rows, cols, node.getInt('transB', 0) !== 0, node.getFloat('alpha', 1));
}

/** alpha · (transB ? Bᵀ : B) as [K, N]. */
function gemmMatrix(
  b: Float32Array,
  rows: number,
  cols: number,
  transB: boolean,
  alpha: number,
): Float32Array {
  if (!transB && alpha === 1) return b;
  const out = transB ? swapLastAxes(b, 1, rows, cols, new Float32Array(b.length)) : b.slice();
  if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i] *= alpha;
  return out;
}

/** beta · C: a new [N] initializer when C is a constant of N values, else C behind a Mul by beta. */
function gemmBias(
  graph: Graph,
  node: Node,
  c: string,
  beta: number,
  n: number,
  base: string,
): Projection['bias'] {
  const constant = constantFloat(graph, c);
  if (typeof constant !== 'string' && isRow(constant, n)) {
    if (beta === 1 && constant.tensor.dims.length === 1) return { name: c, vector: true };
    const data = constant.tensor.toFloat32().map((v) => v * beta);
    const name = graph.uniqueName(`${c}_bias`);
    graph.addInitializer(Tensor.fromArray(name, 'float32', [n], data));
    return { name, vector: true, replaces: constant };
  }
  if (beta === 1) return { name: c, vector: false };
  const factor = graph.uniqueName(`${base}_beta`);
  graph.addInitializer(Tensor.fromArray(factor, 'float32', [], Float32Array.of(beta)));
  const scaled = graph.uniqueName(`${base}_scaled_bias`);
  graph.addNode(new Node('Mul', [c, factor], [scaled], { name: graph.uniqueName(`${base}_BetaMul`) }), {
    before: node,
  });
  return { name: scaled, vector: false };
}

/** [N] or [1, N]: one value per output column, what MatMulNBits' bias input holds. */
function isRow({ tensor }: ConstantTensor, n: number): boolean {
  const d = tensor.dims;
  return (d.length === 1 && d[0] === n) || (d.length === 2 && d[0] === 1 && d[1] === n);
}
