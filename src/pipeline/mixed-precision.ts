/**
 * Automatic mixed precision for static quantization, run inside `quantize()` after calibration:
 * 1. rank the layers by sensitivity (each quantized alone, from the one calibration);
 * 2. `keepFloat`: the N most sensitive stay float;
 * 3. `bitsBudget`: layers get 4-bit weights, cheapest output error per bit saved first;
 * 4. `maxAccuracyDrop`: the most sensitive layers go back to float until the drop on the labelled
 *    evaluation data is within the bound (accuracy-search.ts).
 * The result is the plan to write and the per-layer precision, reported and saved in the report.
 */
import { groupLayers } from '../analysis/layer-groups.js';
import { isComputeLayer } from '../analysis/layers.js';
import { type CandidateMetrics, ReferenceRun } from '../analysis/reference-run.js';
import { measureSensitivity, points, weightCount } from '../analysis/sensitivity.js';
import { readLabels } from '../data/labels.js';
import { requiredInputs } from '../data/model-inputs.js';
import { openSampleSource, type SampleSource } from '../data/sample-source.js';
import { QuantkitError } from '../errors.js';
import type { Node } from '../onnx/node.js';
import type { EmitOptions } from '../passes/qdq/emit.js';
import type { QuantPlan } from '../passes/qdq/plan.js';
import type { ProgressCallback } from '../progress.js';
import type { ScaleZeroPoint } from '../quant/qparams.js';
import type { QuantType } from '../quant/types.js';
import type { RuntimeOptions } from '../runtime/session.js';
import { type SearchStep, searchKeptFloat } from './accuracy-search.js';
import { chooseFourBit, type FourBitCost } from './bits-budget.js';
import type { Sensitivity } from '../analysis/sensitivity.js';
import { CandidateBuilder, fourBitType, type StaticSetup } from './candidate-builder.js';
import type { ResolvedOptions } from './resolve.js';

export interface MixedPrecisionRequest {
  /**
   * Labelled data for `maxAccuracyDrop` (with `evalLabels`), also used to measure sensitivity: a path
   * (as calibration data) or an opened source. Default for sensitivity: the first samples of the
   * calibration data.
   */
  evalData?: string | SampleSource;
  /** One class per evaluation sample: a .npy path, or the ids. */
  evalLabels?: string | Int32Array;
  /**
   * Rank the layers by sensitivity even when no mixed-precision option asks for it (`quantkit
   * sensitivity`). `groupDepth` ranks groups of layers sharing the first N segments of their names
   * (a transformer block) instead, and mixed precision then keeps whole groups float. `samples`: how
   * many samples each layer is measured on (default 500; the accuracy search uses all the data).
   */
  sensitivity?: boolean | { groupDepth?: number; samples?: number };
}

export type Precision = QuantType | 'float32' | 'float16';

export interface LayerPrecision {
  layer: string;
  opType: string;
  /** Constant weight elements. */
  weights: number;
  /** What the layer's weights are stored as (activations around a float layer stay float too). */
  precision: Precision;
  reason: string;
}

export interface MixedPrecisionReport {
  /** What the models were compared on: the ranking on the first `rankedOn` samples, the search on all. */
  data: { source: 'evaluation' | 'calibration'; samples: number; rankedOn: number; labelled: boolean };
  /** The FP32 model's accuracy on that data, with labels. */
  referenceAccuracy?: number;
  /** Ranking units, most sensitive first. */
  sensitivity: Sensitivity[];
  /** bitsBudget: every candidate's cost of 4-bit weights. */
  fourBit?: FourBitCost[];
  /** Each quantizable layer's precision, in graph order. */
  plan: LayerPrecision[];
  /** Weight-count weighted average bits of the quantized layers' weights. */
  averageWeightBits: number;
  /** maxAccuracyDrop: every candidate evaluated. */
  search?: SearchStep[];
  /** The chosen plan's accuracy and drop in points on the labelled data. */
  accuracy?: number;
  accuracyDrop?: number;
  /** Candidate models built and evaluated. */
  evaluations: number;
}

export interface MixedPrecisionResult {
  /** The plan to write, on the prepared model. */
  plan: QuantPlan;
  /** Activation parameters, completed for values that stand alone in the plan. */
  params: Map<string, ScaleZeroPoint>;
  /** Weight parameters to write with (4-bit layers added to any given). */
  weightParams: EmitOptions['weightParams'];
  report: MixedPrecisionReport;
  notes: string[];
}

/**
 * Samples each layer's sensitivity is measured on: enough to order layers (KL divergence separates them
 * far more finely than top-1 accuracy does), few enough that ranking a deep model stays cheap.
 */
const SENSITIVITY_SAMPLES = 500;

export async function mixedPrecision(
  setup: StaticSetup,
  calibration: SampleSource,
  req: MixedPrecisionRequest & {
    preprocess?: string;
    runtime?: RuntimeOptions;
    onProgress?: ProgressCallback;
  },
  options: ResolvedOptions,
): Promise<MixedPrecisionResult> {
  const mp = options.mixedPrecision;
  const nodes = computeLayers(setup);
  const builder = new CandidateBuilder(
    setup,
    nodes.map((n) => n.name),
  );
  const settings = typeof req.sensitivity === 'object' ? req.sensitivity : {};
  const rankedOn = settings.samples ?? SENSITIVITY_SAMPLES;
  const { run, data } = await referenceRun(setup, calibration, req, options, rankedOn);
  if (mp?.maxAccuracyDrop !== undefined && run.accuracy === undefined) {
    throw new QuantkitError(
      '--max-accuracy-drop needs labelled evaluation data: give --eval-data and --eval-labels',
    );
  }
  const groups = groupLayers(nodes, settings.groupDepth);
  const sensitivity = await measureSensitivity(
    groups,
    (quantized) => builder.build({ only: quantized.map((n) => n.name) }),
    run,
    { samples: rankedOn, onProgress: req.onProgress },
  );
  let evaluations = groups.length;
  const measure = async (
    keptFloat: readonly string[],
    fourBit: ReadonlySet<string>,
    samples?: number,
  ): Promise<CandidateMetrics> => {
    evaluations++;
    return run.measure(builder.build({ keptFloat, fourBit }), samples);
  };
  const reasons = new Map<string, string>();
  let kept = sensitivity.slice(0, mp?.keepFloat ?? 0);
  for (const [i, s] of kept.entries()) for (const l of s.layers) reasons.set(l, `sensitivity rank ${i + 1}`);

  let fourBit = new Set<string>();
  let costs: FourBitCost[] | undefined;
  if (mp?.bitsBudget !== undefined) {
    const candidates = sensitivity.filter((s) => !kept.includes(s) && s.weights > 0);
    const at4: CandidateMetrics[] = [];
    for (const s of candidates) {
      at4.push(await measure(layersNotIn(nodes, s.layers), new Set(s.layers), rankedOn));
      req.onProgress?.({ stage: 'sensitivity at 4 bits', done: at4.length, total: candidates.length });
    }
    const choice = chooseFourBit(candidates, at4, mp.bitsBudget);
    costs = choice.costs;
    const chosen = candidates.filter((_, i) => costs![i].fourBit);
    fourBit = new Set(chosen.flatMap((s) => s.layers));
  }

  let search: SearchStep[] | undefined;
  let final: CandidateMetrics | undefined;
  if (mp?.maxAccuracyDrop !== undefined) {
    const rest = sensitivity.filter((s) => !kept.includes(s));
    const floatAt = (k: number) => [...kept, ...rest.slice(0, k)].flatMap((s) => s.layers);
    const results = new Map<number, CandidateMetrics>();
    const found = await searchKeptFloat(
      rest.length,
      async (k) => {
        const m = await measure(floatAt(k), fourBit);
        results.set(k, m);
        req.onProgress?.({ stage: 'accuracy search', done: results.size });
        return m.accuracy!;
      },
      run.accuracy!,
      mp.maxAccuracyDrop,
    );
    search = found.steps;
    final = results.get(found.keptFloat);
    for (const [i, s] of rest.slice(0, found.keptFloat).entries()) {
      for (const l of s.layers)
        reasons.set(
          l,
          `needed for the ${mp.maxAccuracyDrop}-point bound (sensitivity rank ${sensitivity.indexOf(s) + 1})`,
        );
      kept = [...kept, rest[i]];
    }
  }
  const keptLayers = kept.flatMap((s) => s.layers);
  if (mp && !final && run.accuracy !== undefined) final = await measure(keptLayers, fourBit);
  // Layers with 4-bit weights that went back to float are float.
  for (const l of keptLayers) fourBit.delete(l);

  const plan = builder.plan(setup.work, { keptFloat: keptLayers });
  const weightParams = builder.emitOptions(plan, { fourBit }).weightParams;
  const floatType: Precision = mp?.float16 ? 'float16' : 'float32';
  const layerPlan = nodes.map((n): LayerPrecision => {
    const reason =
      reasons.get(n.name) ?? (fourBit.has(n.name) ? 'cheapest output error per bit saved' : 'quantized');
    const precision: Precision = reasons.has(n.name)
      ? floatType
      : fourBit.has(n.name)
        ? fourBitType(setup.emit.weightType)
        : setup.emit.weightType;
    return { layer: n.name, opType: n.opType, weights: weightCount(n), precision, reason };
  });
  const report: MixedPrecisionReport = {
    data,
    ...(run.accuracy !== undefined && { referenceAccuracy: run.accuracy }),
    sensitivity,
    ...(costs && { fourBit: costs }),
    plan: layerPlan,
    averageWeightBits: averageBits(layerPlan),
    ...(search && { search }),
    ...(final?.accuracy !== undefined && {
      accuracy: final.accuracy,
      accuracyDrop: points(run.accuracy! - final.accuracy),
    }),
    evaluations,
  };
  const params = builder.activationParams;
  return { plan, params, weightParams, report, notes: notesOf(report, options, mp?.maxAccuracyDrop) };
}

/** The plan's Conv/MatMul/Gemm layers in graph order, each given a name if it had none. */
function computeLayers(setup: StaticSetup): Node[] {
  const planned = setup.plan.nodes;
  const layers: Node[] = [];
  for (const { node, graph } of setup.work.graph.walk()) {
    if (!planned.has(node) || !isComputeLayer(node)) continue;
    // Variants exclude layers by name.
    if (!node.name) node.name = graph.uniqueName(`${node.opType}_${node.outputs[0]}`);
    layers.push(node);
  }
  if (layers.length === 0) {
    throw new QuantkitError(
      'no Conv, MatMul or Gemm layer is quantized: there is no layer precision to choose',
    );
  }
  return layers;
}

async function referenceRun(
  setup: StaticSetup,
  calibration: SampleSource,
  req: MixedPrecisionRequest & { preprocess?: string; runtime?: RuntimeOptions },
  options: ResolvedOptions,
  rankedOn: number,
): Promise<{ run: ReferenceRun; data: MixedPrecisionReport['data'] }> {
  if (req.evalLabels !== undefined && req.evalData === undefined) {
    throw new QuantkitError('--eval-labels needs --eval-data: the labels name the classes of those samples');
  }
  const source =
    typeof req.evalData === 'string'
      ? await openSampleSource(req.evalData, requiredInputs(setup.work.graph), {
          preprocess: req.preprocess,
          purpose: 'evaluation',
        })
      : (req.evalData ?? calibration);
  const labels =
    typeof req.evalLabels === 'string' ? await readLabels(req.evalLabels, source) : req.evalLabels;
  if (labels && labels.length !== source.sampleCount) {
    throw new QuantkitError(
      `the evaluation labels hold ${labels.length} classes for ${source.sampleCount} samples; give one per sample`,
    );
  }
  const batch = source.fixedBatchSize ?? options.batchSize;
  const limit = req.evalData === undefined ? rankedOn : undefined;
  const run = await ReferenceRun.create(setup.work, source.batches(batch), {
    labels,
    limit,
    runtime: req.runtime,
  });
  return {
    run,
    data: {
      source: req.evalData === undefined ? 'calibration' : 'evaluation',
      samples: run.samples,
      rankedOn: Math.min(rankedOn, run.samples),
      labelled: labels !== undefined,
    },
  };
}

function layersNotIn(nodes: readonly Node[], layers: readonly string[]): string[] {
  return nodes.map((n) => n.name).filter((n) => !layers.includes(n));
}

function averageBits(plan: readonly LayerPrecision[]): number {
  let weights = 0;
  let bits = 0;
  for (const l of plan) {
    const b = l.precision === 'int4' || l.precision === 'uint4' ? 4 : l.precision.startsWith('float') ? 0 : 8;
    if (b === 0) continue;
    weights += l.weights;
    bits += b * l.weights;
  }
  return weights > 0 ? bits / weights : 0;
}

function notesOf(r: MixedPrecisionReport, options: ResolvedOptions, maxDrop: number | undefined): string[] {
  const notes: string[] = [];
  for (const l of r.plan) {
    if (l.precision === 'float32' || l.precision === 'float16')
      notes.push(`${l.layer} (${l.opType}) stays in ${l.precision}: ${l.reason}`);
  }
  if (maxDrop !== undefined && r.accuracyDrop !== undefined && r.accuracyDrop > maxDrop) {
    notes.push(
      `mixed precision: even with every layer in float the drop is ${r.accuracyDrop.toFixed(2)} points, over the ${maxDrop}-point bound`,
    );
  }
  if (options.mixedPrecision?.bitsBudget !== undefined) {
    notes.push(
      `mixed precision: weights average ${r.averageWeightBits.toFixed(2)} bits (budget ${options.mixedPrecision.bitsBudget})`,
    );
  }
  return notes;
}
