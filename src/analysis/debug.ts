/**
 * Per-layer error analysis of a quantized model against its float original (`quantkit debug`): both
 * run on the same batches in ONNX Runtime; every quantized activation is matched to its float tensor
 * (probes.ts) and compared value by value, once as the quantized model computes it (the error
 * accumulated from the input on) and once with float inputs fed to each layer (the error that layer
 * adds alone, probe-model.ts); every integer weight gets its quantization SQNR (weight-error.ts).
 */
import { Histogram } from '../calibrate/histogram.js';
import { QuantkitError } from '../errors.js';
import { asFloat32 } from '../evaluate/as-float32.js';
import { ErrorAccumulator, type OutputError } from '../evaluate/output-error.js';
import type { Batch } from '../evaluate/sample-batch.js';
import { batchRows } from '../evaluate/sample-batch.js';
import { cloneModel } from '../onnx/clone.js';
import { inferDtypes } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { exposeValues } from '../passes/expose-values.js';
import { prepareModel } from '../passes/prepare/prepare-model.js';
import type { ProgressCallback } from '../progress.js';
import { type QuantType, typeRange } from '../quant/types.js';
import { evaluateConstants } from '../runtime/evaluate-constants.js';
import { type RuntimeOptions, Runner } from '../runtime/session.js';
import type { NdArray } from '../tensor/ndarray.js';
import { type HistogramSummary, summarizeHistogram } from './histogram-summary.js';
import { layerOf } from './layers.js';
import { probedModel } from './probe-model.js';
import { findProbes, type Probe } from './probes.js';
import { type WeightError, weightErrors } from './weight-error.js';

export interface ErrorFigures {
  /** 10·log10(Σx² / Σ(x−y)²) over every value of every sample; Infinity when identical. */
  sqnrDb: number;
  cosine: number;
  /** Σ(x−y)² / Σx² = 10^(−SQNR/10). */
  relativeMse: number;
}

export interface TensorError {
  /** The float model's tensor. */
  tensor: string;
  /** The layer writing it (a Relu/Clip absorbed into a Conv/MatMul/Gemm counts as that layer). */
  layer: string;
  opType: string;
  /** The quantized model's node writing the integers (QuantizeLinear, QLinearConv, ...). */
  quantizedBy: string;
  /** The quantized model as it runs: every earlier layer's error included. */
  accumulated: ErrorFigures;
  /** This layer alone: its inputs are the float model's values, quantized. */
  local: ErrorFigures;
  /**
   * Share of the accumulated error energy that came from earlier layers: 1 − local / accumulated
   * squared error, in [0, 1] (0 when the layer alone accounts for all of it).
   */
  inherited: number;
  /** The float values' range over the data, and the range the integers can represent. */
  range: [number, number];
  clip: [number, number];
  /** Fraction of the float values outside the representable range (they saturate). */
  clipped: number;
  /** Float values regrouped over the value range and clip range; for the worst tensors only. */
  histogram?: HistogramSummary;
}

export interface DebugResult {
  samples: number;
  /** Worst first: by the error the layer adds alone (lowest local SQNR). */
  tensors: TensorError[];
  /** The model outputs compared by name. */
  outputs: ({ name: string } & ErrorFigures)[];
  /** Worst first (lowest SQNR). */
  weights: WeightError[];
  /** Integer tensors of the quantized model with no float counterpart by name. */
  unmatched: number;
}

export interface DebugOptions {
  /** Histograms for this many of the worst tensors. Default 6. */
  histograms?: number;
  /** Fold BatchNorm etc. in a copy of the float model first, as quantize does. Default true. */
  prepare?: boolean;
  runtime?: RuntimeOptions;
  onProgress?: ProgressCallback;
  /** Samples the batches hold, for progress. */
  total?: number;
}

interface Track {
  probe: Probe;
  accumulated: ErrorAccumulator;
  local: ErrorAccumulator;
  histogram: Histogram;
  clip: [number, number];
  outside: number;
}

export async function debugQuantized(
  float: Model,
  quantized: Model,
  batches: AsyncIterable<Batch> | Iterable<Batch>,
  opts: DebugOptions = {},
): Promise<DebugResult> {
  const reference = cloneModel(float);
  if (opts.prepare !== false) await prepareModel(reference, { evaluate: evaluateConstants });
  const floatTypes = inferDtypes(reference);
  // A float tensor of unknown type cannot be read back; its probes are left out.
  const probes = findProbes(quantized, reference).filter((p) => floatTypes.get(p.float) !== undefined);
  const tracks = trackProbes(quantized, probes);
  if (tracks.length === 0) {
    throw new QuantkitError(
      'no quantized activation of the quantized model matches a tensor of the float model by name; ' +
        'give the float model the quantized one was made from',
    );
  }
  const outputs = quantized.graph.outputs.map((o) => o.name).filter((n) => reference.graph.isGraphOutput(n));
  const floatNames = [...new Set([...tracks.map((t) => t.probe.float), ...outputs])];
  const exposed = exposeValues(reference, floatNames, floatTypes);
  const accumulated = probedModel(quantized, probes, false);
  const local = probedModel(quantized, probes, true);
  const outputErrors = new Map(outputs.map((n) => [n, new ErrorAccumulator()]));
  const runners: Runner[] = [];
  let samples = 0;
  try {
    for (const m of [exposed.model, accumulated.model, local.model])
      runners.push(await Runner.create(m, opts.runtime));
    const [floatRunner, quantRunner, localRunner] = runners;
    for await (const batch of batches) {
      const f = await floatRunner.run(batch);
      const floatValue = (name: string) => f[exposed.outputs.get(name)!] as NdArray;
      const q = await quantRunner.run(batch);
      const feeds: Record<string, NdArray> = { ...batch };
      for (const [name, input] of local.floatInputs) feeds[input] = floatValue(name);
      const l = await localRunner.run(feeds);
      const seen = new Set<string>();
      for (const t of tracks) {
        const x = asFloat32(floatValue(t.probe.float), `tensor '${t.probe.float}'`);
        const out = accumulated.outputs.get(t.probe.quantized)!;
        add(t.accumulated, x, q[out] as NdArray, t.probe);
        add(t.local, x, l[local.outputs.get(t.probe.quantized)!] as NdArray, t.probe);
        if (seen.has(t.probe.float)) continue;
        seen.add(t.probe.float);
        t.histogram.update(x);
        t.outside += countOutside(x, t.clip);
      }
      for (const [name, acc] of outputErrors) {
        const x = asFloat32(floatValue(name), `output '${name}'`);
        acc.add(x, asFloat32(q[name] as NdArray, `output '${name}'`));
      }
      samples += batchRows(batch);
      opts.onProgress?.({ stage: 'debug', done: samples, total: opts.total });
    }
  } finally {
    for (const r of runners) await r.release();
  }
  if (samples === 0) throw new QuantkitError('the data holds no samples');
  const tensors = rank(tracks, reference);
  for (const t of tensors.slice(0, opts.histograms ?? 6)) {
    const track = tracks.find((k) => k.probe.float === t.tensor)!;
    t.histogram = summarizeHistogram(track.histogram, t.clip);
  }
  return {
    samples,
    tensors,
    outputs: [...outputErrors].map(([name, acc]) => ({ name, ...figures(acc.result()) })),
    weights: weightErrors(quantized, reference),
    unmatched: unmatchedCount(quantized, probes),
  };
}

function trackProbes(quantized: Model, probes: readonly Probe[]): Track[] {
  const tracks: Track[] = [];
  const seen = new Set<string>();
  for (const probe of probes) {
    // One row per float tensor: a tensor read through several pairs (TensorRT) is quantized alike.
    if (seen.has(probe.float)) continue;
    seen.add(probe.float);
    tracks.push({
      probe,
      accumulated: new ErrorAccumulator(),
      local: new ErrorAccumulator(),
      histogram: new Histogram('signed'),
      clip: clipRange(quantized, probe),
      outside: 0,
    });
  }
  return tracks;
}

/** [S·(qmin − Z), S·(qmax − Z)] from the probe's scale and zero point (uint8 when there is none). */
function clipRange(model: Model, p: Probe): [number, number] {
  const g = model.graph;
  const scale = g.findInitializer(p.scale)!.toFloat32()[0];
  const zp = p.zeroPoint ? g.findInitializer(p.zeroPoint) : undefined;
  const z = zp ? zp.toFloat32()[0] : 0;
  const { qmin, qmax } = typeRange((zp?.dtype ?? 'uint8') as QuantType);
  return [scale * (qmin - z), scale * (qmax - z)];
}

function add(acc: ErrorAccumulator, x: Float32Array, y: NdArray, p: Probe): void {
  const values = asFloat32(y, `tensor '${p.quantized}'`);
  if (values.length !== x.length) {
    throw new QuantkitError(
      `the quantized tensor '${p.quantized}' holds ${values.length} values per batch but its float ` +
        `counterpart '${p.float}' holds ${x.length}; the two models do not match there`,
    );
  }
  acc.add(x, values);
}

function countOutside(x: Float32Array, [lo, hi]: readonly [number, number]): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] < lo || x[i] > hi) n++;
  return n;
}

function figures(e: OutputError): ErrorFigures {
  const relativeMse = e.outputsIdentical ? 0 : 10 ** (-e.sqnrDb / 10);
  return { sqnrDb: e.sqnrDb, cosine: e.cosine, relativeMse };
}

function rank(tracks: readonly Track[], reference: Model): TensorError[] {
  const rows = tracks.map((t): TensorError => {
    const accumulated = figures(t.accumulated.result());
    const local = figures(t.local.result());
    const layer = layerOf(reference.graph, t.probe.float);
    const m = t.histogram.moments;
    const inherited =
      accumulated.relativeMse > 0
        ? Math.min(1, Math.max(0, 1 - local.relativeMse / accumulated.relativeMse))
        : 0;
    return {
      tensor: t.probe.float,
      layer: layer.name,
      opType: layer.opType,
      quantizedBy: t.probe.producer.opType,
      accumulated,
      local,
      inherited,
      range: [m.count > 0 ? m.min : 0, m.count > 0 ? m.max : 0],
      clip: t.clip,
      clipped: m.count > 0 ? t.outside / m.count : 0,
    };
  });
  // NaN (a broken tensor) sorts first, then the lowest SQNR.
  const key = (r: TensorError) => (Number.isNaN(r.local.sqnrDb) ? -Infinity : r.local.sqnrDb);
  return rows.sort((a, b) => key(a) - key(b));
}

function unmatchedCount(quantized: Model, probes: readonly Probe[]): number {
  const matched = new Set(probes.map((p) => p.producer));
  return quantized.graph.nodes.filter((n) => n.opType === 'QuantizeLinear' && !matched.has(n)).length;
}
