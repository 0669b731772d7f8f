/**
 * Speed-aware planning: on targets whose integer kernels can be slower than float (onnxruntime-web's
 * WebAssembly build runs depthwise convolutions slower in INT8), each planned Conv/MatMul/Gemm is timed
 * in the target runtime, float kernel against integer kernel, at the calibration batch shape, and the
 * ones INT8 would slow down stay float. Timings are cached by layer signature (op, shapes, attributes)
 * for the life of the process, so repeated layers are timed once.
 */
import { Attribute } from '../onnx/attribute.js';
import { makeGraph, makeModel } from '../onnx/builders.js';
import type { DtypeMap } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';
import { makeValueInfo } from '../onnx/value-info.js';
import { exposeValues } from '../passes/expose-values.js';
import type { QuantPlan } from '../passes/qdq/plan.js';
import type { ProgressCallback } from '../progress.js';
import { measureLatency } from '../runtime/latency.js';
import { type RuntimeOptions, Runner } from '../runtime/session.js';
import { elementCount, type NdArray } from '../tensor/ndarray.js';

export interface SpeedDecision {
  node: string;
  opType: string;
  /** How many times faster the integer kernel ran than the float one (below 1: slower). */
  speedup: number;
  keptFloat: boolean;
}

export interface SpeedPlanOptions {
  runtime: RuntimeOptions;
  /** Integer kernels below this speed-up stay float. Default 1. */
  threshold?: number;
  onProgress?: ProgressCallback;
}

const cache = new Map<string, number>();

/** Times every planned layer with a constant weight; returns one decision per layer. */
export async function measureLayerSpeed(
  model: Model,
  plan: QuantPlan,
  dtypes: DtypeMap,
  batch: Record<string, NdArray>,
  opts: SpeedPlanOptions,
): Promise<SpeedDecision[]> {
  const layers = [...plan.nodes].filter(
    (n) =>
      ['Conv', 'MatMul', 'Gemm'].includes(n.opType) && n.graph!.findInitializer(n.inputs[1]) !== undefined,
  );
  const inputs = await layerInputs(model, layers, dtypes, batch, opts.runtime);
  const decisions: SpeedDecision[] = [];
  for (const [i, node] of layers.entries()) {
    const x = inputs.get(node.inputs[0]);
    if (!x) continue;
    const key = signature(node, x.shape);
    let speedup = cache.get(key);
    if (speedup === undefined) {
      speedup = await timeLayer(node, x, opts.runtime);
      cache.set(key, speedup);
    }
    decisions.push({
      node: node.name || `${node.opType} → ${node.outputs[0]}`,
      opType: node.opType,
      speedup,
      keptFloat: speedup < (opts.threshold ?? 1),
    });
    opts.onProgress?.({ stage: 'speed check', done: i + 1, total: layers.length });
  }
  return decisions;
}

/** The float inputs of the layers on one calibration batch (their shapes and realistic values). */
async function layerInputs(
  model: Model,
  layers: readonly Node[],
  dtypes: DtypeMap,
  batch: Record<string, NdArray>,
  runtime: RuntimeOptions,
): Promise<Map<string, NdArray>> {
  const names = [...new Set(layers.map((n) => n.inputs[0]))];
  const exposed = exposeValues(model, names, dtypes);
  const runner = await Runner.create(exposed.model, { ...runtime, backend: 'native' });
  try {
    const out = await runner.run(batch);
    return new Map(names.map((n) => [n, out[exposed.outputs.get(n)!] as NdArray]));
  } finally {
    await runner.release();
  }
}

function signature(node: Node, shape: readonly number[]): string {
  const attrs = node
    .attributes()
    .map((a) => `${a.name}=${a.proto.ints.join('x') || a.proto.i || a.proto.f}`)
    .join(',');
  const w = node.graph!.findInitializer(node.inputs[1])!;
  return `${node.opType}|${shape.join('x')}|${w.dims.join('x')}|${attrs}`;
}

/**
 * The layer as it would run inside a quantized network, both ways: the fused integer kernel (uint8 in
 * and out), or the float kernel plus the conversions around it. Per-tensor scales suffice for timing.
 */
async function timeLayer(node: Node, x: NdArray, runtime: RuntimeOptions): Promise<number> {
  const g = node.graph!;
  const weight = g.findInitializer(node.inputs[1])!;
  const bias = node.inputs[2] ? g.findInitializer(node.inputs[2]) : undefined;
  const attributes = node.attributes().map((a) => new Attribute(a.proto, a.tensors, a.graphs));
  const scalar = (name: string, v: number) => Tensor.fromArray(name, 'float32', [], Float32Array.of(v));
  const floatModel = makeModel(
    makeGraph({
      nodes: [new Node(node.opType, ['x', 'w', ...(bias ? ['b'] : [])], ['y'], { attributes })],
      inputs: [makeValueInfo('x', 'float32', x.shape)],
      outputs: [makeValueInfo('y', 'float32')],
      initializers: [weight.renamed('w'), ...(bias ? [bias.renamed('b')] : [])],
    }),
    { opsets: { '': 17 } },
  );
  const int8Weight = Tensor.fromArray(
    'w_q',
    'int8',
    weight.dims,
    new Int8Array(elementCount([...weight.dims])).fill(1),
  );
  const quantModel = makeModel(
    makeGraph({
      nodes: [
        new Node('DequantizeLinear', ['x_q', 's', 'z'], ['x_dq']),
        new Node('DequantizeLinear', ['w_q', 'ws'], ['w_dq']),
        ...(bias ? [new Node('DequantizeLinear', ['b_q', 'bs'], ['b_dq'])] : []),
        new Node(node.opType, ['x_dq', 'w_dq', ...(bias ? ['b_dq'] : [])], ['y'], { attributes }),
        new Node('QuantizeLinear', ['y', 's', 'z'], ['y_q']),
      ],
      inputs: [makeValueInfo('x_q', 'uint8', x.shape)],
      outputs: [makeValueInfo('y_q', 'uint8')],
      initializers: [
        scalar('s', 0.05),
        Tensor.fromArray('z', 'uint8', [], Uint8Array.of(128)),
        int8Weight,
        scalar('ws', 0.01),
        ...(bias
          ? [
              Tensor.fromArray('b_q', 'int32', [...bias.dims], new Int32Array(bias.size)),
              scalar('bs', 0.0005),
            ]
          : []),
      ],
    }),
    { opsets: { '': 17 } },
  );
  const fr = await Runner.create(floatModel, runtime);
  const y = (await fr.run({ x })).y as NdArray;
  // Kept float between quantized neighbours, a layer also pays for dequantizing its input and
  // quantizing its output; timed apart, since ONNX Runtime would quantize a float layer's weights
  // itself if it sat between a DequantizeLinear and a QuantizeLinear in one model.
  const conversions = makeModel(
    makeGraph({
      nodes: [
        new Node('DequantizeLinear', ['x_q', 's', 'z'], ['x']),
        new Node('QuantizeLinear', ['y', 's', 'z'], ['y_q']),
      ],
      inputs: [makeValueInfo('x_q', 'uint8', x.shape), makeValueInfo('y', 'float32', y.shape)],
      outputs: [makeValueInfo('x', 'float32'), makeValueInfo('y_q', 'uint8')],
      initializers: [scalar('s', 0.05), Tensor.fromArray('z', 'uint8', [], Uint8Array.of(128))],
    }),
    { opsets: { '': 17 } },
  );
  const [cr, qr] = [await Runner.create(conversions, runtime), await Runner.create(quantModel, runtime)];
  try {
    const xq: NdArray = { dtype: 'uint8', shape: x.shape, data: new Uint8Array(x.data.length).fill(140) };
    const feeds: Record<string, NdArray>[] = [{ x }, { x_q: xq, y }, { x_q: xq }];
    const times = await measureLatency(
      [fr, cr, qr].map((r, i) => ({ run: (f: Record<string, NdArray>[]) => r.run(f[i]) })),
      feeds,
      { runs: 15, warmup: 2 },
    );
    return (median(times[0].cpu) + median(times[1].cpu)) / median(times[2].cpu);
  } finally {
    for (const r of [fr, cr, qr]) await r.release();
  }
}

function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  return s[s.length >> 1];
}

/**
 * A candidate must beat FP32 by this much to be taken without trying more float layers: timings of
 * small models vary by ±5% from run to run, and "never slower than FP32" must hold on the next run too.
 */
const CLEARLY_NOT_SLOWER = 1.05;

export interface PlanChoice {
  /** Layers kept float, in the order they were given up. */
  keptFloat: string[];
  /** Whole-model INT8 speed-up over FP32 measured for each candidate tried, in order. */
  tried: { keptFloat: number; speedup: number }[];
}

/**
 * Per-layer timings miss what happens between layers (layout changes, conversions at float/INT8
 * boundaries), so the plan they suggest is checked as a whole: the quantized model is timed against
 * FP32 in the target runtime, and while it is slower, more layers — slowest INT8 first — are kept
 * float. The first candidate clearly faster than FP32 wins; if none is, the fastest one does.
 */
export async function chooseFastestPlan(
  fp32: Model,
  decisions: readonly SpeedDecision[],
  build: (keptFloat: readonly string[]) => Model,
  batch: Record<string, NdArray>,
  runtime: RuntimeOptions,
  onProgress?: ProgressCallback,
): Promise<PlanChoice> {
  const order = [...decisions].sort((a, b) => a.speedup - b.speedup).map((d) => d.node);
  const initial = decisions.filter((d) => d.keptFloat).length;
  const steps = [
    ...new Set([initial, ...[0.25, 0.5, 0.75, 1].map((f) => Math.max(initial, Math.ceil(f * order.length)))]),
  ];
  const reference = await Runner.create(fp32, runtime);
  const tried: PlanChoice['tried'] = [];
  let best = { count: initial, speedup: -Infinity };
  try {
    for (const [i, count] of steps.entries()) {
      const runner = await Runner.create(build(order.slice(0, count)), runtime);
      try {
        const times = await measureLatency([reference, runner], batch, { runs: 20, warmup: 2 });
        const speedup = median(times[0].cpu) / median(times[1].cpu);
        tried.push({ keptFloat: count, speedup });
        if (speedup > best.speedup) best = { count, speedup };
        onProgress?.({ stage: 'speed check (whole model)', done: i + 1, total: steps.length });
        if (speedup >= CLEARLY_NOT_SLOWER) {
          best = { count, speedup };
          break;
        }
      } finally {
        await runner.release();
      }
    }
  } finally {
    await reference.release();
  }
  return { keptFloat: order.slice(0, best.count), tried };
}
