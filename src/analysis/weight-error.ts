/**
 * Weight quantization SQNR: every integer weight of a quantized model (behind a DequantizeLinear in QDQ
 * form, or read by an integer operator in operator form) dequantized with its own scales and compared
 * with the float model's weight at the same input of the node of the same name.
 */
import { ErrorAccumulator } from '../evaluate/output-error.js';
import type { Graph } from '../onnx/graph.js';
import type { Model } from '../onnx/model.js';
import type { Node } from '../onnx/node.js';
import type { Tensor } from '../onnx/tensor.js';
import { dequantize } from '../quant/dequantize.js';
import type { Granularity } from '../quant/granularity.js';
import type { QuantizedArray } from '../quant/quantize.js';
import { QUANT_TYPES, type QuantType } from '../quant/types.js';

export interface WeightError {
  /** The float model's weight. */
  weight: string;
  /** The node reading it (name, or op type and output). */
  node: string;
  opType: string;
  type: QuantType;
  /** 'tensor', 'axis N' or 'block N×B'. */
  granularity: string;
  sqnrDb: number;
  cosine: number;
}

/** Integer weight positions of operator-form nodes: [values, scale, zero point, float input]. */
const OPERATOR_WEIGHTS: Readonly<Record<string, readonly (readonly [number, number, number, number])[]>> = {
  QLinearConv: [[3, 4, 5, 1]],
  QLinearMatMul: [
    [0, 1, 2, 0],
    [3, 4, 5, 1],
  ],
  QGemm: [[3, 4, 5, 1]],
  MatMulIntegerToFloat: [
    [0, 2, 4, 0],
    [1, 3, 5, 1],
  ],
};

interface QuantizedWeight {
  values: Tensor;
  scale: Tensor;
  zeroPoint: Tensor | undefined;
  granularity: Granularity;
  /** The reader in the quantized model and the input of its float counterpart. */
  reader: Node;
  input: number;
}

export function weightErrors(quantized: Model, float: Model): WeightError[] {
  const floatNodes = new Map<string, Node>();
  for (const n of float.graph.nodes) if (n.name) floatNodes.set(n.name, n);
  const out: WeightError[] = [];
  const seen = new Set<string>();
  for (const w of quantizedWeights(quantized.graph)) {
    const counterpart = floatNodes.get(w.reader.name);
    const name = counterpart?.inputs[w.input];
    const original = name ? float.graph.findInitializer(name) : undefined;
    if (!original || original.size !== w.values.size || seen.has(w.values.name)) continue;
    seen.add(w.values.name);
    out.push(compare(w, original, counterpart!));
  }
  return out.sort((a, b) => a.sqnrDb - b.sqnrDb);
}

function* quantizedWeights(g: Graph): Generator<QuantizedWeight> {
  for (const node of g.nodes) {
    if (node.opType === 'DequantizeLinear') {
      const values = g.findInitializer(node.inputs[0]);
      if (!values || !isQuantType(values.dtype)) continue;
      for (const reader of g.consumers(node.outputs[0])) {
        const input = reader.inputs.indexOf(node.outputs[0]);
        const w = weightOf(g, values, node.inputs[1], node.inputs[2], granularityOf(node, values));
        if (w) yield { ...w, reader, input };
      }
      continue;
    }
    for (const [v, s, z, input] of OPERATOR_WEIGHTS[node.opType] ?? []) {
      const values = g.findInitializer(node.inputs[v]);
      if (!values || !isQuantType(values.dtype)) continue;
      const scale = g.findInitializer(node.inputs[s]);
      const granularity: Granularity =
        scale && scale.size > 1 ? { kind: 'axis', axis: operatorAxis(node, input) } : { kind: 'tensor' };
      const w = weightOf(g, values, node.inputs[s], node.inputs[z], granularity);
      if (w) yield { ...w, reader: node, input };
    }
  }
}

function weightOf(
  g: Graph,
  values: Tensor,
  scaleName: string,
  zeroPointName: string | undefined,
  granularity: Granularity,
): Omit<QuantizedWeight, 'reader' | 'input'> | undefined {
  const scale = g.findInitializer(scaleName);
  const zeroPoint = zeroPointName ? g.findInitializer(zeroPointName) : undefined;
  if (!scale || (zeroPointName && !zeroPoint)) return undefined;
  return { values, scale, zeroPoint, granularity };
}

/** Per-channel weights of integer operators: Conv's output channels (axis 0), a matrix's columns. */
function operatorAxis(node: Node, input: number): number {
  if (node.opType === 'QLinearConv') return 0;
  if (node.opType === 'QGemm' && node.getInt('transB', 0) === 1) return 0;
  return input === 0 ? 0 : 1;
}

function granularityOf(dq: Node, values: Tensor): Granularity {
  const rank = values.dims.length;
  const axis = dq.getInt('axis', 1);
  const normalized = axis < 0 ? axis + rank : axis;
  const blockSize = dq.getInt('block_size', 0);
  if (blockSize > 0) return { kind: 'block', axis: normalized, blockSize };
  const scale = dq.graph?.findInitializer(dq.inputs[1]);
  return scale && scale.dims.length > 0 ? { kind: 'axis', axis: normalized } : { kind: 'tensor' };
}

function compare(w: QuantizedWeight, original: Tensor, reader: Node): WeightError {
  const type = w.values.dtype as QuantType;
  const scale = w.scale.toFloat32();
  const zeroPoint = w.zeroPoint ? Int32Array.from(w.zeroPoint.toFloat32()) : new Int32Array(scale.length);
  const restored = dequantize(w.values.data() as QuantizedArray, w.values.dims, {
    type,
    granularity: w.granularity,
    shape: [...w.scale.dims],
    scale,
    zeroPoint,
  });
  const acc = new ErrorAccumulator();
  acc.add(original.toFloat32(), restored);
  const r = acc.result();
  return {
    weight: original.name,
    node: reader.name || `${reader.opType} → ${reader.outputs[0]}`,
    opType: reader.opType,
    type,
    granularity: describe(w.granularity),
    sqnrDb: r.sqnrDb,
    cosine: r.cosine,
  };
}

function describe(g: Granularity): string {
  if (g.kind === 'tensor') return 'tensor';
  if (g.kind === 'axis') return `axis ${g.axis}`;
  return `block ${g.blockSize} on axis ${g.axis}`;
}

function isQuantType(dtype: string): boolean {
  return (QUANT_TYPES as readonly string[]).includes(dtype);
}
