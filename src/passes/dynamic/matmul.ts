/**
 * MatMul with a constant B, and Gemm rewritten as MatMul + Add, to the standard ONNX form of dynamic
 * quantization:
 *
 *   DynamicQuantizeLinear(A) → MatMulInteger(A_q, W_q, A_zp, W_zp) → Cast → Mul(A_scale × W_scale) → Add(bias)
 *
 * ONNX Runtime's optimizer fuses this chain into MatMulIntegerToFloat (bias included), and into
 * DynamicQuantizeMatMul when the DynamicQuantizeLinear feeds a single MatMul. Per-channel weights get
 * one scale and zero point per column of B, which both fused kernels and MatMulInteger accept; a B of
 * rank > 2 has no single column axis and is quantized per tensor.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { quantizeWeight } from '../../quant/weights.js';
import { type ConstantWeight, floatWeight } from './constant-weight.js';
import { type DynamicContext, type Rewrite, skipped } from './context.js';
import { emitRescale } from './rescale.js';
import { swapLastAxes } from './transpose.js';
import { describeWeights, specKey, weightSpec } from './weight-spec.js';

export function quantizeMatMul(node: Node, graph: Graph, ctx: DynamicContext): Rewrite {
  const [a, b] = node.inputs;
  const weight = floatWeight(graph, b);
  if (typeof weight === 'string') return skipped(`B '${b}' ${weight}`);
  if (weight.tensor.dims.length < 2) return skipped(`B '${b}' is 1-D; MatMulInteger needs a matrix`);
  return emitIntegerMatMul(node, graph, ctx, {
    input: a,
    weight,
    form: 'matmul',
    matrix: () => weight.tensor,
  });
}

/** Y = alpha · A' · B' + beta · C, with B' = Bᵀ when transB: alpha and the transpose go into the weight. */
export function quantizeGemm(node: Node, graph: Graph, ctx: DynamicContext): Rewrite {
  const [a, b, c = ''] = node.inputs;
  const weight = floatWeight(graph, b);
  if (typeof weight === 'string') return skipped(`B '${b}' ${weight}`);
  if (weight.tensor.dims.length !== 2) return skipped(`B '${b}' is not a matrix`);
  const alpha = node.getFloat('alpha', 1);
  const beta = node.getFloat('beta', 1);
  const transB = node.getInt('transB', 0) !== 0;
  const base = node.name || node.outputs[0];

  let bias: string | undefined;
  if (c !== '' && beta !== 0) {
    const constant = floatWeight(graph, c);
    if (beta === 1) bias = c;
    else if (typeof constant !== 'string') {
      bias = ctx.weights.derive(constant, `beta${beta}`, (name) => scaled(constant.tensor, beta, name)).name;
    } else {
      const betaName = graph.uniqueName(`${base}_beta`);
      graph.addInitializer(Tensor.fromArray(betaName, 'float32', [], Float32Array.of(beta)));
      bias = graph.uniqueName(`${base}_scaled_bias`);
      graph.addNode(new Node('Mul', [c, betaName], [bias], { name: graph.uniqueName(`${base}_BetaMul`) }), {
        before: node,
      });
    }
  }

  let input = a;
  if (node.getInt('transA', 0) !== 0) {
    input = graph.uniqueName(`${a}_transposed`);
    graph.addNode(
      new Node('Transpose', [a], [input], {
        name: graph.uniqueName(`${base}_TransposeA`),
        attributes: [Attribute.ints('perm', [1, 0])],
      }),
      { before: node },
    );
  }
  const done = emitIntegerMatMul(node, graph, ctx, {
    input,
    weight,
    form: `gemm/${transB ? 't' : 'n'}/${alpha}`,
    matrix: () => gemmMatrix(weight.tensor, transB, alpha),
    bias,
  });
  return { done: true, note: `${done.note}; Gemm rewritten as MatMul + Add` };
}

interface IntegerMatMul {
  input: string;
  weight: ConstantWeight;
  /** Names the layout `matrix` produces (for sharing between nodes). */
  form: string;
  /** The weight as the [K, N] (or batched) B of a MatMul. */
  matrix: () => Tensor;
  bias?: string;
}

function emitIntegerMatMul(node: Node, graph: Graph, ctx: DynamicContext, m: IntegerMatMul): Rewrite {
  const { options } = ctx;
  const rank = m.weight.tensor.dims.length;
  const perChannel = options.perChannel && rank === 2;
  const spec = weightSpec(
    options.weightType,
    perChannel ? { kind: 'axis', axis: 1 } : { kind: 'tensor' },
    options.symmetric,
    options.reduceRange,
  );
  const q = ctx.weights.quantize(m.weight, `${m.form}/${specKey(spec)}`, (names) =>
    quantizeWeight(m.matrix(), names, spec),
  );
  const x = ctx.activations.quantize(graph, m.input, node);
  const base = node.name || node.outputs[0];
  const accumulator = graph.uniqueName(`${base}_int32`);
  graph.addNode(
    new Node('MatMulInteger', [x.values, q.values.name, x.zeroPoint, q.zeroPoint.name], [accumulator], {
      name: graph.uniqueName(`${base}_MatMulInteger`),
    }),
    { before: node },
  );
  emitRescale(graph, node, {
    base,
    accumulator,
    activationScale: x.scale,
    weightScale: q.scale.name,
    bias: m.bias,
    output: node.outputs[0],
  });
  graph.removeNode(node);
  const fallback =
    options.perChannel && !perChannel
      ? ` (B has rank ${rank}: no single column axis for per-channel scales)`
      : '';
  return { done: true, note: `MatMulInteger, ${describeWeights(spec, q.scale.size)}${fallback}` };
}

/** alpha · (transB ? Bᵀ : B) as a float32 [K, N] tensor. */
function gemmMatrix(weight: Tensor, transB: boolean, alpha: number): Tensor {
  const [rows, cols] = weight.dims;
  let data = weight.toFloat32();
  if (transB) data = swapLastAxes(data, 1, rows, cols, new Float32Array(data.length));
  if (alpha !== 1) {
    if (!transB) data = data.slice();
    for (let i = 0; i < data.length; i++) data[i] *= alpha;
  }
  return Tensor.fromArray(weight.name, 'float32', transB ? [cols, rows] : [rows, cols], data);
}

function scaled(tensor: Tensor, factor: number, name: string): Tensor {
  const data = tensor.toFloat32().slice();
  for (let i = 0; i < data.length; i++) data[i] *= factor;
  return Tensor.fromArray(name, 'float32', tensor.dims, data);
}
