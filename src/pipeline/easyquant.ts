/**
 * EasyQuant (Wu et al. 2020, DOMAIN.md §3): starting from min/max scales, alternately search each
 * layer's weight scales (per output channel) and its input activation scale to maximise the cosine
 * similarity between the layer's float output and its output computed from quantized input and
 * weights. Each layer is evaluated by ONNX Runtime as a one-node model with Q/DQ in front of it, on
 * float activations captured from a slice of the calibration set.
 */
import type { SampleSource } from '../data/sample-source.js';
import { Attribute } from '../onnx/attribute.js';
import { makeGraph, makeModel } from '../onnx/builders.js';
import type { DtypeMap } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import type { Tensor } from '../onnx/tensor.js';
import { makeValueInfo } from '../onnx/value-info.js';
import { exposeValues } from '../passes/expose-values.js';
import type { QuantPlan, WeightPlan } from '../passes/qdq/plan.js';
import type { ProgressCallback } from '../progress.js';
import { computeQParams, type QuantParams, qparamsFromRange, type ScaleZeroPoint } from '../quant/qparams.js';
import { quantize } from '../quant/quantize.js';
import { type QuantType, quantRange } from '../quant/types.js';
import { type RuntimeOptions, Runner } from '../runtime/session.js';
import { concatAxis0, type NdArray } from '../tensor/ndarray.js';

export interface EasyQuantOptions {
  activationType: QuantType;
  symmetricActivations: boolean;
  weightType: QuantType;
  reduceRange: boolean;
  /** Calibration samples the search runs on. Default 64. */
  samples?: number;
  /** Alternations of the weight and activation searches. Default 2. */
  rounds?: number;
  runtime?: RuntimeOptions;
  onProgress?: ProgressCallback;
}

export interface EasyQuantResult {
  activations: Map<string, ScaleZeroPoint>;
  weights: Map<string, QuantParams>;
  /** Per layer: output cosine with the starting scales and with the searched ones. */
  layers: { node: string; before: number; after: number }[];
}

/** Multipliers of the starting scale that the searches try (the paper searches [0.5, 1.2]·S). */
const FACTORS = Array.from({ length: 36 }, (_, i) => 0.5 + i * 0.02);

export async function easyQuant(
  model: Model,
  plan: QuantPlan,
  dtypes: DtypeMap,
  ranges: ReadonlyMap<string, { min: number; max: number }>,
  source: SampleSource,
  opts: EasyQuantOptions,
): Promise<EasyQuantResult> {
  const activations = new Map<string, ScaleZeroPoint>();
  for (const [name, r] of ranges) activations.set(name, actParams(r.min, r.max, opts));
  const weights = new Map<string, QuantParams>();
  const layers: EasyQuantResult['layers'] = [];
  const targets = layerTargets(plan);
  if (targets.length === 0) return { activations, weights, layers };
  const captured = await capture(model, dtypes, source, targets, opts);
  for (const [i, t] of targets.entries()) {
    const range = ranges.get(t.input);
    if (!range) continue;
    const layer = await LayerModel.create(t, captured, opts);
    try {
      const result = await searchLayer(layer, t, range, opts);
      layers.push({ node: t.node.name || t.node.opType, before: result.before, after: result.after });
      activations.set(t.input, result.activation);
      weights.set(t.weight.key, result.weight);
    } finally {
      await layer.release();
    }
    opts.onProgress?.({ stage: 'easyquant', done: i + 1, total: targets.length });
  }
  return { activations, weights, layers };
}

interface LayerTarget {
  node: Node;
  input: string;
  output: string;
  weight: WeightPlan;
  weightIndex: number;
}

/**
 * Conv/Gemm/MatMul layers with a constant weight whose input activation feeds no other quantized
 * layer: a scale shared by several layers cannot be tuned for one of them.
 */
function layerTargets(plan: QuantPlan): LayerTarget[] {
  const readers = new Map<string, number>();
  for (const n of plan.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const out: LayerTarget[] = [];
  for (const w of plan.weights.values()) {
    if (w.uses.length !== 1) continue;
    const { node, input } = w.uses[0];
    if (!['Conv', 'Gemm', 'MatMul'].includes(node.opType) || input !== 1) continue;
    const act = node.inputs[0];
    const a = plan.activations.get(act);
    if (!a || a.sameAs || a.fixedRange || readers.get(act) !== 1) continue;
    out.push({ node, input: act, output: node.outputs[0], weight: w, weightIndex: input });
  }
  return out;
}

/** Float inputs and outputs of every target layer on the first samples of the calibration set. */
async function capture(
  model: Model,
  dtypes: DtypeMap,
  source: SampleSource,
  targets: readonly LayerTarget[],
  opts: EasyQuantOptions,
): Promise<Map<string, NdArray>> {
  const names = [...new Set(targets.flatMap((t) => [t.input, t.output]))];
  const exposed = exposeValues(model, names, dtypes);
  const runner = await Runner.create(exposed.model, opts.runtime);
  const parts = new Map<string, NdArray[]>(names.map((n) => [n, []]));
  const limit = opts.samples ?? 64;
  let seen = 0;
  try {
    for await (const batch of source.batches(Math.min(limit, 32))) {
      const out = await runner.run(batch);
      for (const n of names) parts.get(n)!.push(out[exposed.outputs.get(n)!] as NdArray);
      seen += Object.values(batch)[0]?.shape[0] ?? 1;
      if (seen >= limit) break;
    }
  } finally {
    await runner.release();
  }
  return new Map(names.map((n) => [n, concatAxis0(parts.get(n)!)]));
}

function actParams(min: number, max: number, opts: EasyQuantOptions): ScaleZeroPoint {
  return qparamsFromRange(min, max, { type: opts.activationType, symmetric: opts.symmetricActivations });
}

/** The layer alone, with its input and weight quantized by parameters fed at run time. */
class LayerModel {
  private constructor(
    private readonly runner: Runner,
    readonly x: NdArray,
    readonly y: Float32Array,
    readonly weight: Tensor,
    readonly channelAxis: number,
    readonly outShape: number[],
  ) {}

  static async create(
    t: LayerTarget,
    captured: Map<string, NdArray>,
    opts: EasyQuantOptions,
  ): Promise<LayerModel> {
    const g = t.node.graph!;
    const weight = g.findInitializer(t.node.inputs[t.weightIndex])!;
    const x = captured.get(t.input)!;
    const y = captured.get(t.output)!;
    const axis = t.weight.axis;
    const extra = t.node.inputs
      .slice(2)
      .filter(Boolean)
      .map((n) => g.findInitializer(n)!);
    const node = new Node(t.node.opType, ['x_dq', 'w_dq', ...extra.map((e) => e.name)], ['y'], {
      attributes: t.node.attributes(),
    });
    const qNodes = [
      new Node('QuantizeLinear', ['x', 'sa', 'za'], ['x_q']),
      new Node('DequantizeLinear', ['x_q', 'sa', 'za'], ['x_dq']),
      new Node('DequantizeLinear', ['w_q', 'sw'], ['w_dq'], {
        attributes: axis === undefined ? [] : [Attribute.int('axis', axis)],
      }),
    ];
    const graph = makeGraph({
      nodes: [...qNodes, node],
      inputs: [
        makeValueInfo(
          'x',
          'float32',
          x.shape.map(() => null),
        ),
        makeValueInfo('sa', 'float32', []),
        makeValueInfo('za', opts.activationType, []),
        makeValueInfo('w_q', opts.weightType, [...weight.dims]),
        makeValueInfo('sw', 'float32', axis === undefined ? [] : [weight.dims[axis]]),
      ],
      outputs: [makeValueInfo('y', 'float32')],
      initializers: extra,
    });
    const runner = await Runner.create(makeModel(graph, { opsets: { '': 17 } }), {
      ...opts.runtime,
      optimization: 'disabled',
    });
    const channelAxis = t.node.opType === 'Conv' ? 1 : y.shape.length - 1;
    return new LayerModel(runner, x, y.data as Float32Array, weight, channelAxis, y.shape);
  }

  async output(a: ScaleZeroPoint, w: QuantParams, wq: NdArray['data']): Promise<Float32Array> {
    const zp = this.zpType === 'int8' ? Int8Array.of(a.zeroPoint) : Uint8Array.of(a.zeroPoint);
    const out = await this.runner.run({
      x: this.x,
      sa: { dtype: 'float32', shape: [], data: Float32Array.of(a.scale) },
      za: { dtype: this.zpType, shape: [], data: zp },
      w_q: { dtype: w.type, shape: [...this.weight.dims], data: wq },
      sw: { dtype: 'float32', shape: w.shape, data: w.scale },
    });
    return out.y.data as Float32Array;
  }

  /** The activation zero point's type (8-bit: EasyQuant's search is for 8-bit activations). */
  zpType: QuantType = 'uint8';

  async release(): Promise<void> {
    await this.runner.release();
  }
}

async function searchLayer(
  layer: LayerModel,
  t: LayerTarget,
  range: { min: number; max: number },
  opts: EasyQuantOptions,
): Promise<{ activation: ScaleZeroPoint; weight: QuantParams; before: number; after: number }> {
  layer.zpType = opts.activationType;
  const w = layer.weight.toFloat32();
  const start = computeQParams(layer.weight.name, w, layer.weight.dims, granularity(t.weight.axis), {
    type: opts.weightType,
    symmetric: true,
    reduceRange: opts.reduceRange,
  });
  let act = actParams(range.min, range.max, opts);
  const weightFactors = new Float64Array(start.scale.length).fill(1);
  // A smaller scale clips weights rather than using codes the (reduced) range does not have.
  const codeRange = quantRange(opts.weightType, { symmetric: true, reduceRange: opts.reduceRange });
  const paramsFor = (factors: Float64Array): QuantParams => ({
    ...start,
    codeRange,
    scale: Float32Array.from(start.scale, (s, c) => Math.fround(s * factors[c])),
  });
  const evaluate = async (a: ScaleZeroPoint, p: QuantParams) => {
    const q = quantize(w, layer.weight.dims, p);
    return layer.output(a, p, q as NdArray['data']);
  };
  const before = cosine(layer.y, await evaluate(act, paramsFor(weightFactors)));
  let best = before;
  for (let round = 0; round < (opts.rounds ?? 2); round++) {
    // Weights: each output channel keeps the factor under which its own outputs match best.
    const channels = start.scale.length;
    const bestChannel = new Float64Array(channels).fill(-Infinity);
    const chosen = Float64Array.from(weightFactors);
    for (const f of FACTORS) {
      const out = await evaluate(act, paramsFor(new Float64Array(channels).fill(f)));
      const cos =
        channels > 1
          ? channelCosines(layer.y, out, layer.outShape, layer.channelAxis)
          : [cosine(layer.y, out)];
      for (let c = 0; c < channels; c++) {
        if (cos[c] > bestChannel[c]) {
          bestChannel[c] = cos[c];
          chosen[c] = f;
        }
      }
    }
    const withWeights = cosine(layer.y, await evaluate(act, paramsFor(chosen)));
    if (withWeights > best) {
      best = withWeights;
      weightFactors.set(chosen);
    }
    // The input activation's clipping range, with the weights fixed.
    for (const f of FACTORS) {
      const a = actParams(range.min * f, range.max * f, opts);
      const cos = cosine(layer.y, await evaluate(a, paramsFor(weightFactors)));
      if (cos > best) {
        best = cos;
        act = a;
      }
    }
  }
  return { activation: act, weight: paramsFor(weightFactors), before, after: best };
}

function granularity(axis: number | undefined) {
  return axis === undefined ? ({ kind: 'tensor' } as const) : ({ kind: 'axis', axis } as const);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? (aa === bb ? 1 : 0) : ab / Math.sqrt(aa * bb);
}

/** Cosine similarity per index of `axis` of row-major arrays of `shape`. */
function channelCosines(
  a: Float32Array,
  b: Float32Array,
  shape: readonly number[],
  axis: number,
): Float64Array {
  const channels = shape[axis];
  let inner = 1;
  for (let k = axis + 1; k < shape.length; k++) inner *= shape[k];
  const ab = new Float64Array(channels);
  const aa = new Float64Array(channels);
  const bb = new Float64Array(channels);
  for (let i = 0; i < a.length; i++) {
    const c = Math.floor(i / inner) % channels;
    ab[c] += a[i] * b[i];
    aa[c] += a[i] * a[i];
    bb[c] += b[i] * b[i];
  }
  const out = new Float64Array(channels);
  for (let c = 0; c < channels; c++)
    out[c] = aa[c] === 0 || bb[c] === 0 ? (aa[c] === bb[c] ? 1 : 0) : ab[c] / Math.sqrt(aa[c] * bb[c]);
  return out;
}
