/**
 * Writes a static-quantization plan into the model in QDQ form: each quantized activation gets a
 * QuantizeLinear → DequantizeLinear pair right after its producer, weights are stored as integers
 * behind a DequantizeLinear (per output channel where planned), and Conv/Gemm biases as int32 with
 * scale = input scale × weight scale — the layout ONNX Runtime fuses into integer kernels and
 * TensorRT reads.
 */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import {
  computeQParams,
  type QuantParams,
  qparamsFromRange,
  type ScaleZeroPoint,
} from '../../quant/qparams.js';
import { roundHalfEven } from '../../quant/rounding.js';
import { isSignedQuantType, type QuantType, quantTypeBits } from '../../quant/types.js';
import { codesArray, weightTensors } from '../../quant/weights.js';
import type { ActivationPlan, BiasPlan, QuantPlan, WeightPlan } from './plan.js';

export interface EmitOptions {
  activationType: QuantType;
  symmetricActivations: boolean;
  weightType: QuantType;
  symmetricWeights: boolean;
  reduceRange: boolean;
  /** One Q/DQ pair per reader of an activation instead of one shared pair (TensorRT). */
  dedicatedPairs?: boolean;
  /** Weight parameters decided elsewhere (a search, AdaRound); keyed by WeightPlan.key. */
  weightParams?: ReadonlyMap<string, QuantParams>;
}

export interface EmitReport {
  activations: number;
  weights: number;
  biases: number;
  /** Weights whose scale was raised so that their int32 bias fits, by weight name. */
  biasAdjusted: string[];
}

const INT32_MAX = 2 ** 31 - 1;

export function emitQdq(
  model: Model,
  plan: QuantPlan,
  activationParams: ReadonlyMap<string, ScaleZeroPoint>,
  opts: EmitOptions,
): EmitReport {
  const domain = qdqDomain(model, opts);
  const params = resolveActivations(plan, activationParams, opts);
  const weightParams = new Map<string, QuantParams>();
  for (const w of plan.weights.values()) {
    const given = opts.weightParams?.get(w.key);
    // Copied: fitting biases may raise scales, and the caller's parameters must stay as they were.
    weightParams.set(
      w.key,
      given ? { ...given, scale: Float32Array.from(given.scale) } : weightQParams(w, opts),
    );
  }
  const biasAdjusted = fitBiases(plan, params, weightParams);
  const replaced = new Set<string>();
  for (const w of plan.weights.values()) {
    emitWeight(w, weightParams.get(w.key)!, domain);
    replaced.add(w.name);
  }
  for (const b of plan.biases) {
    emitBias(b, params.get(b.activation)!.scale, weightParams.get(b.weightKey)!, domain);
    replaced.add(b.bias);
  }
  const initializers = new Map<string, { scale: string; zeroPoint: string }>();
  for (const a of plan.activations.values()) {
    const source = rootOf(a, plan);
    let names = initializers.get(source);
    if (!names) {
      names = addParams(a.graph, source, params.get(source)!, opts.activationType);
      initializers.set(source, names);
    }
    insertPair(a.graph, a.name, names, domain, opts.dedicatedPairs ?? false);
  }
  for (const g of model.graph.graphs()) {
    for (const name of replaced)
      if (g.initializers.has(name) && g.consumers(name).length === 0) g.removeInitializer(name);
  }
  return {
    activations: plan.activations.size,
    weights: plan.weights.size,
    biases: plan.biases.length,
    biasAdjusted,
  };
}

/**
 * 16- and 4-bit Q/DQ are standard from opset 21; below that ONNX Runtime has them in its own domain,
 * as its quantizer does.
 */
function qdqDomain(model: Model, opts: EmitOptions): string {
  const given = [...(opts.weightParams?.values() ?? [])].map((p) => p.type);
  const wide = [opts.activationType, opts.weightType, ...given].some((t) => quantTypeBits(t) !== 8);
  if (!wide || (model.opset('') ?? 0) >= 21) return '';
  model.setOpset('com.microsoft', Math.max(model.opset('com.microsoft') ?? 1, 1));
  return 'com.microsoft';
}

/** Follows pass-through links to the activation whose scale a value shares. */
export function rootOf(a: ActivationPlan, plan: QuantPlan): string {
  let cur = a;
  const seen = new Set<string>();
  while (cur.sameAs && !seen.has(cur.name)) {
    seen.add(cur.name);
    const next = plan.activations.get(cur.sameAs);
    if (!next) break;
    cur = next;
  }
  return cur.name;
}

/** Every planned activation's parameters: calibrated, fixed by the op, or shared with its root. */
export function resolveActivations(
  plan: QuantPlan,
  calibrated: ReadonlyMap<string, ScaleZeroPoint>,
  opts: Pick<EmitOptions, 'activationType' | 'symmetricActivations'>,
): Map<string, ScaleZeroPoint> {
  const out = new Map<string, ScaleZeroPoint>();
  for (const a of plan.activations.values()) {
    const root = rootOf(a, plan);
    if (out.has(root)) continue;
    const fixed = plan.activations.get(root)?.fixedRange;
    const p = fixed
      ? qparamsFromRange(fixed[0], fixed[1], {
          type: opts.activationType,
          symmetric: opts.symmetricActivations,
        })
      : calibrated.get(root);
    if (!p) throw new Error(`no calibrated range for activation '${root}'`);
    out.set(root, p);
  }
  for (const a of plan.activations.values()) out.set(a.name, out.get(rootOf(a, plan))!);
  return out;
}

/** The parameters a planned weight gets from its own range (QAT starts from the same ones). */
export function weightQParams(w: WeightPlan, opts: EmitOptions): QuantParams {
  const t = w.graph.initializers.get(w.name)!;
  // QLinearConv needs one zero point shared by all channels: per-channel weights are signed, as in
  // ONNX Runtime's quantizer.
  const type =
    w.axis !== undefined && !isSignedQuantType(opts.weightType) ? signedOf(opts.weightType) : opts.weightType;
  return computeQParams(
    t.name,
    t.toFloat32(),
    t.dims,
    w.axis === undefined ? { kind: 'tensor' } : { kind: 'axis', axis: w.axis },
    {
      type,
      symmetric: opts.symmetricWeights || w.axis !== undefined,
      reduceRange: opts.reduceRange,
    },
  );
}

function signedOf(t: QuantType): QuantType {
  return t === 'uint8' ? 'int8' : t === 'uint16' ? 'int16' : 'int4';
}

/**
 * An int32 bias cannot hold b / (s_x·s_w) when a channel's weight scale is tiny; as ONNX Runtime's
 * quantizer does, that channel's weight scale is raised just enough for the bias to fit.
 */
function fitBiases(
  plan: QuantPlan,
  act: Map<string, ScaleZeroPoint>,
  weights: Map<string, QuantParams>,
): string[] {
  const adjusted: string[] = [];
  for (const b of plan.biases) {
    const wp = weights.get(b.weightKey)!;
    const bias = b.node.graph!.findInitializer(b.bias)!.toFloat32();
    const sx = act.get(b.activation)!.scale;
    let changed = false;
    for (let c = 0; c < bias.length; c++) {
      const k = wp.scale.length === 1 ? 0 : c;
      const limit = Math.abs(bias[c]) / (sx * INT32_MAX);
      if (wp.scale[k] < limit) {
        wp.scale[k] = Math.fround(limit * (1 + 2 ** -10));
        changed = true;
      }
    }
    if (changed) adjusted.push(b.weightKey);
  }
  return adjusted;
}

/**
 * Integer weight + scale + zero point + one DequantizeLinear per graph reading it. A weight read from a
 * single (sub)graph moves into that graph: ONNX Runtime only fuses DequantizeLinear → MatMul/Conv when
 * the integer weight is an initializer of the same graph. A weight shared by several graphs (the two
 * branches of an If) is dequantized once where it is defined, so it is stored once.
 */
function emitWeight(w: WeightPlan, params: QuantParams, domain: string): void {
  const readers = new Map<Graph, WeightPlan['uses']>();
  for (const use of w.uses) {
    const g = use.node.graph!;
    readers.set(g, [...(readers.get(g) ?? []), use]);
  }
  const home = readers.size === 1 ? [...readers.keys()][0] : w.graph;
  const t = w.graph.initializers.get(w.name)!;
  const q = weightTensors(
    t,
    {
      values: home.uniqueName(`${w.name}_quantized`),
      scale: home.uniqueName(`${w.name}_scale`),
      zeroPoint: home.uniqueName(`${w.name}_zero_point`),
    },
    params,
  );
  for (const tensor of [q.values, q.scale, q.zeroPoint]) home.addInitializer(tensor);
  const out = home.uniqueName(`${w.name}_dequantized`);
  const dq = new Node('DequantizeLinear', [q.values.name, q.scale.name, q.zeroPoint.name], [out], {
    name: home.uniqueName(`${w.name}_DequantizeLinear`),
    domain,
    attributes: w.axis === undefined ? [] : [Attribute.int('axis', w.axis)],
  });
  const local = readers.get(home);
  home.addNode(
    dq,
    local
      ? {
          before: firstOf(
            home,
            local.map((u) => u.node),
          ),
        }
      : { before: home.nodes[0] },
  );
  for (const u of w.uses) u.node.setInput(u.input, out);
}

function emitBias(b: BiasPlan, sx: number, wp: QuantParams, domain: string): void {
  const g = b.node.graph!;
  const bias = g.findInitializer(b.bias)!.toFloat32();
  const perChannel = wp.scale.length > 1;
  if (perChannel && wp.scale.length !== bias.length) {
    throw new QuantkitError(
      `${b.node.label}: bias '${b.bias}' has ${bias.length} values but the weight has ${wp.scale.length} channels`,
    );
  }
  const scale = new Float32Array(perChannel ? bias.length : 1);
  for (let c = 0; c < scale.length; c++) scale[c] = sx * wp.scale[c];
  const q = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const v = roundHalfEven(bias[c] / scale[perChannel ? c : 0]);
    q[c] = Math.max(-INT32_MAX - 1, Math.min(INT32_MAX, v));
  }
  const values = Tensor.fromArray(g.uniqueName(`${b.bias}_quantized`), 'int32', [bias.length], q);
  const scaleT = Tensor.fromArray(
    g.uniqueName(`${b.bias}_scale`),
    'float32',
    perChannel ? [scale.length] : [],
    scale,
  );
  g.addInitializer(values);
  g.addInitializer(scaleT);
  const out = g.uniqueName(`${b.bias}_dequantized`);
  const dq = new Node('DequantizeLinear', [values.name, scaleT.name], [out], {
    name: g.uniqueName(`${b.bias}_DequantizeLinear`),
    domain,
    attributes: perChannel ? [Attribute.int('axis', 0)] : [],
  });
  g.addNode(dq, { before: b.node });
  b.node.setInput(b.input, out);
}

function addParams(
  g: Graph,
  name: string,
  p: ScaleZeroPoint,
  type: QuantType,
): { scale: string; zeroPoint: string } {
  const scale = Tensor.fromArray(g.uniqueName(`${name}_scale`), 'float32', [], Float32Array.of(p.scale));
  const zp = Tensor.fromArray(g.uniqueName(`${name}_zero_point`), type, [], codesArray(type, [p.zeroPoint]));
  g.addInitializer(scale);
  g.addInitializer(zp);
  return { scale: scale.name, zeroPoint: zp.name };
}

/**
 * value → QuantizeLinear → DequantizeLinear → its readers: one pair shared by all of them, or with
 * `dedicated` one pair per reader (TensorRT cannot share a pair). A graph output keeps its name (the
 * DequantizeLinear writes it), so the model's interface does not change.
 */
function insertPair(
  g: Graph,
  value: string,
  p: { scale: string; zeroPoint: string },
  domain: string,
  dedicated: boolean,
): void {
  const producer = g.producer(value);
  const pair = (): [Node, Node] => {
    const quantized = g.uniqueName(`${value}_quantized`);
    const q = new Node('QuantizeLinear', [value, p.scale, p.zeroPoint], [quantized], {
      name: g.uniqueName(`${value}_QuantizeLinear`),
      domain,
    });
    const dq = new Node(
      'DequantizeLinear',
      [quantized, p.scale, p.zeroPoint],
      [g.uniqueName(`${value}_dequantized`)],
      {
        name: g.uniqueName(`${value}_DequantizeLinear`),
        domain,
      },
    );
    return [q, dq];
  };
  const place = (q: Node, dq: Node) => {
    const first = g.nodes[0];
    g.addNode(q, producer ? { after: producer } : first ? { before: first } : undefined);
    g.addNode(dq, { after: q });
  };
  const readers = dedicated ? [...g.consumers(value)] : [];
  for (const reader of readers) {
    const [q, dq] = pair();
    reader.setInputs(reader.inputs.map((i) => (i === value ? dq.outputs[0] : i)));
    for (const sub of reader.subgraphs()) sub.replaceAllUses(value, dq.outputs[0], { graphOutputs: true });
    place(q, dq);
  }
  const output = producer !== undefined && g.isGraphOutput(value);
  if (dedicated && !output) return;
  const [q, dq] = pair();
  if (output) {
    // The DequantizeLinear takes over the name, so readers and the graph output see the pair's result.
    const float = g.uniqueName(`${value}_float`);
    producer.setOutputs(producer.outputs.map((o) => (o === value ? float : o)));
    q.setInput(0, float);
    dq.setOutput(0, value);
  } else {
    g.replaceAllUses(value, dq.outputs[0]);
  }
  place(q, dq);
}

function firstOf(g: Graph, nodes: readonly Node[]): Node {
  const set = new Set(nodes);
  return g.nodes.find((n) => set.has(n)) ?? nodes[0];
}
