/**
 * `quantize(model, options)`: the whole job — prepare, calibrate, plan, write — on a copy of the
 * model. The CLI is a thin layer over this function.
 */
import { isQuantkitError, QuantkitError } from '../errors.js';
import type { EstimatorName } from '../calibrate/estimators.js';
import { requiredInputs } from '../data/model-inputs.js';
import { openSampleSource, type SampleSource } from '../data/sample-source.js';
import { openTextSource } from '../data/text-data.js';
import { cloneModel } from '../onnx/clone.js';
import { type DtypeMap, inferDtypes } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import type { TensorSink } from '../onnx/tensor-sink.js';
import { quantizeDynamic } from '../passes/dynamic/quantize-dynamic.js';
import { convertToFloat16, type Fp16Report } from '../passes/fp16/convert.js';
import { type NodeOutcome, nodeOutcome } from '../passes/pass-report.js';
import { prepareModel, type PrepareReport } from '../passes/prepare/prepare-model.js';
import { type EmitOptions, type EmitReport, emitQdq } from '../passes/qdq/emit.js';
import { OP_RULES } from '../passes/qdq/op-rules.js';
import { type PlanOptions, planStatic, type QuantPlan } from '../passes/qdq/plan.js';
import type { WeightOnlyOptions } from '../passes/weight-only/options.js';
import { quantizeWeightOnlyCalibrated } from '../passes/weight-only/quantize-calibrated.js';
import { quantizeWeightOnly, type WeightOnlyReport } from '../passes/weight-only/quantize-weight-only.js';
import { qdqToQOperator, type QOperatorReport } from '../passes/qoperator/convert.js';
import type { ProgressCallback } from '../progress.js';
import type { ScaleZeroPoint } from '../quant/qparams.js';
import { evaluateConstants } from '../runtime/evaluate-constants.js';
import { cpuFeatures } from '../runtime/latency.js';
import type { RuntimeOptions } from '../runtime/session.js';
import { calibrate } from './calibrate.js';
import { easyQuant } from './easyquant.js';
import { ortWeightCalibration } from './weight-calibration.js';
import { chooseFastestPlan, measureLayerSpeed, type SpeedDecision } from './speed-plan.js';
import { type Verification, verifyQuantized } from './verify.js';
import { applyFloat16Fallback, applyMixedPrecision } from './mixed-precision-step.js';
import type { MixedPrecisionReport, MixedPrecisionRequest } from './mixed-precision.js';
import { writeCalibrationTable } from '../io/calibration-table.js';
import type { QuantizeOptions } from './options.js';
import { type HostInfo, planOptionsFor, type ResolvedOptions, resolveOptions } from './resolve.js';

export interface QuantizeRequest extends QuantizeOptions, MixedPrecisionRequest {
  /** Calibration data: a path (.npy, .npz, a folder of them, a folder of images) or an opened source. */
  calibration?: string | SampleSource;
  /** How images become inputs (`--preprocess`). */
  preprocess?: string;
  /**
   * The model's tokenizer.json: `calibration` is then a plain-text file, tokenised and cut into windows
   * of `calibSeqLen` tokens (`--calib-text FILE --tokenizer tokenizer.json`; src/data/text-data.ts).
   */
  tokenizer?: string;
  /** Text calibration: tokens per window; default: the token input's fixed sequence length. */
  calibSeqLen?: number;
  /**
   * Run the result next to the original in the target runtime on a slice of the calibration data and
   * report fusion, agreement and speed (`report.verification`). The CLI does this unless --no-verify.
   */
  verify?: boolean;
  /** Also write TensorRT's calibration table (calibration.cache, calibration.json) into this folder. */
  calibrationTable?: string;
  /** Samples per calibration batch. Default 32. */
  calibBatch?: number;
  /** ONNX Runtime settings for the sessions quantization runs (calibration, constant folding). */
  runtime?: RuntimeOptions;
  /** Weight-only: where quantized weights go as they are made, for models larger than memory. */
  weightSink?: TensorSink;
  onProgress?: ProgressCallback;
  /** The machine the defaults are chosen for; detected when absent. */
  host?: HostInfo;
}

export interface QuantizeReport {
  options: ResolvedOptions;
  prepare: PrepareReport;
  /** Every node considered for quantization: what was done or why not. */
  nodes: NodeOutcome[];
  /** Quantized nodes by op type. */
  quantized: Record<string, number>;
  calibration?: { samples: number; method: string; activations: number; warnings: string[] };
  emit?: EmitReport;
  verification?: Verification;
  /** Files of the TensorRT calibration table, when asked for. */
  calibrationTable?: string[];
  /** Speed-aware targets: each layer's INT8 speed-up in the target runtime, and whether it stayed float. */
  speed?: SpeedDecision[];
  /** Speed-aware targets: whole-model INT8 speed-up for each number of layers kept float that was tried. */
  speedChecks?: { keptFloat: number; speedup: number }[];
  /** EasyQuant: each tuned layer's output cosine before and after the search. */
  easyquant?: { node: string; before: number; after: number }[];
  qoperator?: QOperatorReport;
  fp16?: Fp16Report;
  weightOnly?: WeightOnlyReport;
  /** Static: the sensitivity ranking and, with a mixed-precision option, the chosen per-layer plan. */
  mixedPrecision?: MixedPrecisionReport;
  /** One line each: data notes, skipped nodes, warnings. */
  notes: string[];
  seconds: number;
}

export interface QuantizeResult {
  model: Model;
  report: QuantizeReport;
}

/** Quantizes a copy of `model`; the model passed in is not modified. */
export async function quantize(model: Model, req: QuantizeRequest = {}): Promise<QuantizeResult> {
  const start = performance.now();
  const host = req.host ?? cpuFeatures();
  const options = resolveOptions(req, { hasCalibration: req.calibration !== undefined, host });
  const work = cloneModel(model);
  const prepare = await prepareModel(work, { evaluate: evaluateConstants });
  const notes = [...options.reasons, ...options.warnings, ...prepare.notes];
  const report: QuantizeReport = { options, prepare, nodes: [], quantized: {}, notes, seconds: 0 };
  switch (options.mode) {
    case 'dynamic':
      // The static op-type defaults do not apply: dynamic quantization has its own op set.
      recordOutcomes(
        report,
        quantizeDynamic(work, {
          weightType: options.weightType,
          perChannel: options.perChannel,
          symmetricWeights: req.symmetricWeights,
          reduceRange: options.reduceRange,
          opTypes: req.opTypes,
          excludeOpTypes: [...options.excludeOpTypes],
          excludeNodes: [...options.excludeNodes],
        }),
      );
      break;
    case 'fp16':
      report.fp16 = convertToFloat16(work, {
        keepFloat32Ops: [...options.keepFloat32Ops],
        opTypes: req.opTypes,
        excludeOpTypes: [...options.excludeOpTypes],
        excludeNodes: [...options.excludeNodes],
      });
      for (const n of report.fp16.nodes)
        if (!n.done) report.notes.push(`${n.node} (${n.opType}) stays float32: ${n.note}`);
      break;
    case 'static':
      await quantizeStatic(model, work, req, options, report);
      break;
    case 'weight-only':
      await quantizeWeights(work, req, options, report, req.weightSink);
      break;
  }
  work.setMetadata('quantkit.quantization', JSON.stringify(describe(options)));
  report.seconds = (performance.now() - start) / 1000;
  return { model: work, report };
}

async function quantizeStatic(
  original: Model,
  work: Model,
  req: QuantizeRequest,
  options: ResolvedOptions,
  report: QuantizeReport,
): Promise<void> {
  const unknown = options.opTypes.filter((t) => !OP_RULES[t]);
  if (unknown.length > 0) {
    report.notes.push(`no static quantization rule for op types ${unknown.join(', ')}: they stay in float`);
  }
  const dtypes = inferDtypes(work);
  const planOptions = planOptionsFor(options);
  let plan = planStatic(work, dtypes, planOptions);
  if (plan.nodes.size === 0) {
    throw new QuantkitError(
      'no operator of this model can be quantized statically with these options ' +
        `(quantizable op types: ${options.opTypes.join(', ')}); try --mode dynamic, or check --op-types/--exclude-*`,
    );
  }
  const source = await openCalibration(work, req, options);
  report.notes.push(...source.notes);
  // Speed-aware targets may later drop layers from the plan, which can turn a value that shared its
  // producer's scale into one that needs its own: calibrate those too.
  const names = [...plan.activations.values()]
    .filter((a) => !a.fixedRange && (options.profile.speedAware || !a.sameAs))
    .map((a) => a.name);
  const method: EstimatorName = options.calibMethod === 'easyquant' ? 'minmax' : options.calibMethod;
  const target = { type: options.activationType, symmetric: options.symmetricActivations };
  const cal = await calibrate(work, names, dtypes, source, {
    method,
    target,
    percentile: options.percentile,
    batchSize: options.batchSize,
    runtime: req.runtime,
    onProgress: req.onProgress,
  });
  report.calibration = {
    samples: cal.samples,
    method: options.calibMethod,
    activations: names.length,
    warnings: cal.warnings,
  };
  report.notes.push(...cal.warnings);
  let params = cal.params;
  let weightParams: EmitOptions['weightParams'];
  if (options.profile.speedAware)
    plan = await speedAwarePlan(work, plan, dtypes, planOptions, cal.params, source, req, options, report);
  recordPlan(report, plan);
  if (options.calibMethod === 'easyquant') {
    const eq = await easyQuant(work, plan, dtypes, cal.ranges, source, {
      activationType: options.activationType,
      symmetricActivations: options.symmetricActivations,
      weightType: options.weightType,
      reduceRange: options.reduceRange,
      runtime: req.runtime,
      onProgress: req.onProgress,
    });
    params = new Map([...cal.params, ...eq.activations]);
    weightParams = eq.weights;
    report.easyquant = eq.layers;
  }
  if (options.mixedPrecision || req.sensitivity) {
    const setup = {
      work,
      dtypes,
      planOptions,
      plan,
      params,
      emit: { ...emitOptions(options), weightParams },
    };
    ({ plan, params, weightParams } = await applyMixedPrecision(setup, source, req, options, report));
  }
  report.emit = emitQdq(work, plan, params, { ...emitOptions(options), weightParams });
  if (options.mixedPrecision?.float16) applyFloat16Fallback(work, report);
  if (options.format === 'qoperator') {
    report.qoperator = qdqToQOperator(work);
    for (const k of report.qoperator.kept) report.notes.push(`${k.node}: left in QDQ form (${k.reason})`);
  }
  if (req.calibrationTable) report.calibrationTable = writeCalibrationTable(req.calibrationTable, cal.ranges);
  if (req.verify) {
    const layers = [...plan.nodes].filter((n) => LAYERS.has(n.opType)).map((n) => n.name);
    report.verification = await verifyQuantized(original, work, source, {
      profile: options.profile,
      batchSize: options.batchSize,
      quantizedLayers: layers,
      runtime: req.runtime,
      onProgress: req.onProgress,
    });
    report.notes.push(...report.verification.warnings);
  }
}

/** The layers whose fusion into integer kernels verification checks. */
const LAYERS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

async function quantizeWeights(
  work: Model,
  req: QuantizeRequest,
  options: ResolvedOptions,
  report: QuantizeReport,
  sink: TensorSink | undefined,
): Promise<void> {
  const { filter, ...settings } = options.weightOnly!;
  const w =
    settings.algorithm === 'awq' || settings.algorithm === 'gptq'
      ? await quantizeCalibratedWeights(work, req, options, { ...settings, ...filter, sink })
      : quantizeWeightOnly(work, { ...settings, ...filter, sink });
  report.weightOnly = w;
  recordOutcomes(report, w);
  if (!w.nodes.some((n) => n.done)) {
    const why = w.nodes[0] ? ` (${w.nodes[0].node}: ${w.nodes[0].note})` : '';
    throw new QuantkitError(
      `no MatMul or Gemm of this model has a constant 2-D float32 weight to quantize${why}; weight-only ` +
        'quantization has nothing to do',
    );
  }
  if (w.opset) {
    const { from, to } = w.opset;
    report.notes.push(`default-domain opset raised from ${from} to ${to} (blocked DequantizeLinear)`);
  }
}

/** AWQ and GPTQ: the layers' input statistics from the calibration data, in ONNX Runtime. */
async function quantizeCalibratedWeights(
  work: Model,
  req: QuantizeRequest,
  options: ResolvedOptions,
  settings: WeightOnlyOptions,
): Promise<WeightOnlyReport> {
  const source = await openCalibration(work, req, options);
  const cal = ortWeightCalibration(source, options.batchSize, req.runtime, req.onProgress);
  try {
    return await quantizeWeightOnlyCalibrated(work, settings, cal);
  } finally {
    await cal.close();
  }
}

async function openCalibration(
  work: Model,
  req: QuantizeRequest,
  options: ResolvedOptions,
): Promise<SampleSource> {
  const c = req.calibration!;
  if (typeof c !== 'string') return c;
  try {
    if (req.tokenizer !== undefined) {
      return await openTextSource(c, work.graph, {
        tokenizer: req.tokenizer,
        seqLen: req.calibSeqLen,
        limit: options.calibSamples,
      });
    }
    return await openSampleSource(c, requiredInputs(work.graph), {
      preprocess: req.preprocess,
      limit: options.calibSamples,
      purpose: 'calibration',
    });
  } catch (e) {
    if (isQuantkitError(e)) throw e;
    throw new QuantkitError(`cannot read calibration data '${c}': ${(e as Error).message}`);
  }
}

function recordPlan(report: QuantizeReport, plan: QuantPlan): void {
  for (const node of plan.nodes) {
    report.quantized[node.opType] = (report.quantized[node.opType] ?? 0) + 1;
    report.nodes.push(nodeOutcome(node, node.graph!, true, 'quantized'));
  }
  for (const { node, reason } of plan.skipped) {
    report.nodes.push(nodeOutcome(node, node.graph!, false, reason));
    report.notes.push(`${node.label} stays in float: ${reason}`);
  }
}

function recordOutcomes(report: QuantizeReport, pass: { nodes: NodeOutcome[] }): void {
  for (const o of pass.nodes) {
    report.nodes.push(o);
    if (o.done) report.quantized[o.opType] = (report.quantized[o.opType] ?? 0) + 1;
    else report.notes.push(`${o.node} (${o.opType}) stays in float: ${o.note}`);
  }
}

/**
 * Keeps float the layers INT8 would slow down on this target: each layer timed alone, then the whole
 * model checked against FP32 (see speed-plan.ts). Calibration covered every planned layer, so any
 * subset can be written with the ranges already measured.
 */
async function speedAwarePlan(
  work: Model,
  plan: QuantPlan,
  dtypes: DtypeMap,
  planOptions: PlanOptions,
  params: ReadonlyMap<string, ScaleZeroPoint>,
  source: SampleSource,
  req: QuantizeRequest,
  options: ResolvedOptions,
  report: QuantizeReport,
): Promise<QuantPlan> {
  const runtime: RuntimeOptions = { ...req.runtime, backend: runtimeBackend(options), threads: 1 };
  const batch = await firstBatch(source, options.batchSize);
  const decisions = await measureLayerSpeed(work, plan, dtypes, batch, {
    runtime,
    onProgress: req.onProgress,
  });
  const planWithout = (model: Model, keptFloat: readonly string[]) =>
    planStatic(model, dtypes, {
      ...planOptions,
      filter: {
        ...planOptions.filter,
        excludeNodes: [...(planOptions.filter.excludeNodes ?? []), ...keptFloat],
      },
    });
  const build = (keptFloat: readonly string[]) => {
    const candidate = cloneModel(work);
    emitQdq(candidate, planWithout(candidate, keptFloat), params, emitOptions(options));
    return candidate;
  };
  const choice = await chooseFastestPlan(work, decisions, build, batch, runtime, req.onProgress);
  const kept = new Set(choice.keptFloat);
  report.speed = decisions.map((d) => ({ ...d, keptFloat: kept.has(d.node) }));
  report.speedChecks = choice.tried;
  for (const d of report.speed.filter((x) => x.keptFloat)) {
    const alone = `on ${options.target}, INT8 ran ${d.speedup.toFixed(2)}× its float speed`;
    const reason = d.speedup < 1 ? alone : `${alone} alone, but the whole model was faster with it in float`;
    const node = [...plan.nodes].find((n) => n.name === d.node)!;
    report.nodes.push(nodeOutcome(node, node.graph!, false, reason));
    report.notes.push(`${d.node} (${d.opType}) stays in float: ${reason}`);
  }
  const last = choice.tried[choice.tried.length - 1];
  if (last && last.speedup < 1) {
    report.notes.push(
      `on ${options.target} no quantized variant of this model beat FP32; the fastest found is kept`,
    );
  }
  return kept.size > 0 ? planWithout(work, choice.keptFloat) : plan;
}

/** The runtime a target runs its models on, for measurements. */
function runtimeBackend(o: ResolvedOptions): 'native' | 'wasm' {
  return o.profile.runtime === 'ort-wasm' ? 'wasm' : 'native';
}

async function firstBatch(source: SampleSource, size: number) {
  for await (const batch of source.batches(size)) return batch;
  throw new QuantkitError('the calibration data holds no samples');
}

function emitOptions(o: ResolvedOptions): EmitOptions {
  return {
    activationType: o.activationType,
    symmetricActivations: o.symmetricActivations,
    weightType: o.weightType,
    symmetricWeights: o.symmetricWeights,
    reduceRange: o.reduceRange,
    dedicatedPairs: o.profile.dedicatedPairs,
  };
}

/** What the output model records about how it was made (metadata 'quantkit.quantization'). */
function describe(o: ResolvedOptions): Record<string, unknown> {
  const { reasons: _reasons, ...rest } = o;
  return rest;
}
