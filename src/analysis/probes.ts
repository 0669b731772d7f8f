/**
 * Where a quantized model holds integers that stand for a float tensor of the original: the output of
 * each QuantizeLinear (QDQ form) and of each integer operator (QLinearConv, QGemm, ... in operator
 * form, and data movement run on integers), with the scale and zero point that dequantize it. Each is
 * matched to the float model's tensor of the same meaning, so the two can be compared value by value.
 *
 * Matching goes by names, in this order: the float name a DequantizeLinear of the integers writes (a
 * graph output keeps its name), the input of a QuantizeLinear, and the integer tensor's own name less
 * the suffix quantizers append ('_quantized' — quantkit and ONNX Runtime — or '_QuantizeLinear_Output').
 * Only the main graph is probed; values inside If/Loop/Scan bodies are not matched.
 */
import type { Graph } from '../onnx/graph.js';
import type { Model } from '../onnx/model.js';
import type { Node } from '../onnx/node.js';
import { PASS_THROUGH } from '../passes/qoperator/convert.js';

export interface Probe {
  /** The integer tensor of the quantized model. */
  quantized: string;
  /** Initializer names of its scale and zero point ('' when the zero point is left out). */
  scale: string;
  zeroPoint: string;
  /** The float model's tensor it stands for. */
  float: string;
  /** The quantized model's node writing it. */
  producer: Node;
}

/** Output scale and zero point positions of the integer operators (ONNX and com.microsoft). */
const OUTPUT_PARAMS: Readonly<Record<string, readonly [number, number]>> = {
  QuantizeLinear: [1, 2],
  QLinearConv: [6, 7],
  QLinearMatMul: [6, 7],
  QGemm: [7, 8],
  QLinearAdd: [6, 7],
  QLinearMul: [6, 7],
  QLinearConcat: [0, 1],
  QLinearAveragePool: [3, 4],
  QLinearGlobalAveragePool: [3, 4],
  QLinearSigmoid: [3, 4],
  QLinearLeakyRelu: [3, 4],
  QLinearSoftmax: [3, 4],
};

const SUFFIXES = ['_quantized', '_QuantizeLinear_Output'];

export function findProbes(quantized: Model, float: Model): Probe[] {
  const g = quantized.graph;
  const floatValues = valueNames(float.graph);
  const params = new Map<string, { scale: string; zeroPoint: string }>();
  const probes: Probe[] = [];
  for (const node of g.topologicalOrder()) {
    const p = outputParams(g, node, params);
    if (!p) continue;
    const out = node.outputs[0];
    params.set(out, p);
    const name = floatName(g, node, out, floatValues);
    if (name !== undefined) probes.push({ quantized: out, ...p, float: name, producer: node });
  }
  return probes;
}

function outputParams(
  g: Graph,
  node: Node,
  known: ReadonlyMap<string, { scale: string; zeroPoint: string }>,
): { scale: string; zeroPoint: string } | undefined {
  if (!node.outputs[0]) return undefined;
  if (PASS_THROUGH.has(node.opType) && node.isStandard) return known.get(node.inputs[0]);
  const at = OUTPUT_PARAMS[node.opType];
  if (!at || node.hasAttribute('axis') || node.hasAttribute('block_size')) return undefined;
  const scale = node.inputs[at[0]];
  const s = scale ? g.findInitializer(scale) : undefined;
  // Per-tensor only: a per-axis QuantizeLinear is a weight's, not an activation's.
  if (!s || s.size !== 1) return undefined;
  return { scale, zeroPoint: node.inputs[at[1]] ?? '' };
}

function floatName(g: Graph, node: Node, out: string, floatValues: ReadonlySet<string>): string | undefined {
  for (const c of g.consumers(out)) {
    if (c.opType === 'DequantizeLinear' && floatValues.has(c.outputs[0])) return c.outputs[0];
  }
  if (node.opType === 'QuantizeLinear' && floatValues.has(node.inputs[0])) return node.inputs[0];
  for (const suffix of SUFFIXES) {
    if (out.endsWith(suffix) && floatValues.has(out.slice(0, -suffix.length)))
      return out.slice(0, -suffix.length);
  }
  return undefined;
}

/** Every value the main graph reads or writes. */
export function valueNames(g: Graph): Set<string> {
  const names = new Set<string>(g.inputs.map((i) => i.name));
  for (const n of g.nodes) for (const o of n.outputs) if (o) names.add(o);
  return names;
}
