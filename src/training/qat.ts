/**
 * `quantizeAwareTraining(model, request)`: quantization-aware training (DOMAIN.md §7) end to end —
 * prepare the model as PTQ does (BatchNormalization folded), plan Q/DQ placement with the static
 * planner, calibrate activation ranges, put FakeQuant where the Q/DQ pairs would go, fine-tune (with
 * the FP32 model as teacher when distilling), and write the result with the static Q/DQ writer using
 * the learned scales. QAT and PTQ outputs are therefore the same kind of model.
 */
import { calibrate } from '../pipeline/calibrate.js';
import { arraySampleSource, type SampleSource } from '../data/sample-source.js';
import { requiredInputs } from '../data/model-inputs.js';
import { QuantkitError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { inferDtypes } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { prepareModel } from '../passes/prepare/prepare-model.js';
import { type EmitOptions, type EmitReport, weightQParams } from '../passes/qdq/emit.js';
import { planStatic } from '../passes/qdq/plan.js';
import { qdqToQOperator, type QOperatorReport } from '../passes/qoperator/convert.js';
import type { QuantizeOptions } from '../pipeline/options.js';
import { type HostInfo, planOptionsFor, type ResolvedOptions, resolveOptions } from '../pipeline/resolve.js';
import type { QuantParams } from '../quant/qparams.js';
import { type QuantRange, quantRange } from '../quant/types.js';
import { evaluateConstants } from '../runtime/evaluate-constants.js';
import { cpuFeatures } from '../runtime/latency.js';
import { Runner } from '../runtime/session.js';
import { sliceAxis0 } from '../tensor/ndarray.js';
import { exportQuantized } from './fake-quant/export.js';
import type { ScaleLearning } from './fake-quant/gradient.js';
import { type FakeQuantSite, insertFakeQuant } from './fake-quant/insert.js';
import { TERNARY_RANGE, ternaryParams } from './fake-quant/ternary.js';
import { raiseForTraining } from './opset.js';
import { train, type TrainLog, type TrainOptions } from './trainer.js';
import type { TrainData } from './train-data.js';

export interface QatRequest
  extends Omit<QuantizeOptions, 'mode' | 'weightType'>, Omit<TrainOptions, 'scales' | 'teacher' | 'loss'> {
  /** 'ternary': codes {−1, 0, +1} × a per-channel scale, stored as int4. Default int8. */
  weightType?: QuantizeOptions['weightType'] | 'ternary';
  /** How scales are learned: LSQ (default), PACT, or not at all (plain STE). */
  learnScales?: ScaleLearning;
  /** Distil from the FP32 model (α, β, T). */
  distill?: { alpha: number; beta: number; temperature: number };
  /** Calibration data for the starting ranges; default: the first 512 training samples. */
  calibration?: SampleSource;
  host?: HostInfo;
}

export interface QatReport {
  options: ResolvedOptions;
  learnScales: ScaleLearning;
  /** Fake-quant sites: activations and weights. */
  activations: number;
  weights: number;
  calibrationSamples: number;
  history: TrainLog[];
  /** Top-1 of the fake-quant model on the eval data at the end of training. */
  evalAccuracy?: number;
  samplesPerSecond: number;
  emit: EmitReport;
  qoperator?: QOperatorReport;
  notes: string[];
  seconds: number;
}

export interface QatResult {
  model: Model;
  /** The trained fake-quant model (float, FakeQuant functions), e.g. to compare with the export. */
  fakeQuant: Model;
  report: QatReport;
}

const DEFAULT_CALIBRATION_SAMPLES = 512;

export async function quantizeAwareTraining(model: Model, req: QatRequest): Promise<QatResult> {
  const start = performance.now();
  const ternary = req.weightType === 'ternary';
  const { weightType, ...rest } = req;
  const options = resolveOptions(
    { ...rest, mode: 'static', weightType: weightType === 'ternary' ? 'int4' : weightType },
    { hasCalibration: true, host: req.host ?? cpuFeatures() },
  );
  if (ternary && !options.symmetricWeights)
    throw new QuantkitError('ternary weights are symmetric; drop --asymmetric-weights');
  const work = cloneModel(model);
  raiseForTraining(work, 'the model');
  const prepare = await prepareModel(work, { evaluate: evaluateConstants });
  const notes = [...options.reasons, ...options.warnings, ...prepare.notes];
  const dtypes = inferDtypes(work);
  const planOptions = planOptionsFor(options);
  const plan = planStatic(work, dtypes, planOptions);
  if (plan.nodes.size === 0) {
    throw new QuantkitError(
      `no operator of this model can be quantized statically (quantizable op types: ${options.opTypes.join(', ')})`,
    );
  }
  for (const { node, reason } of plan.skipped) notes.push(`${node.label} stays in float: ${reason}`);
  const emitOptions: EmitOptions = {
    activationType: options.activationType,
    symmetricActivations: options.symmetricActivations,
    weightType: options.weightType,
    symmetricWeights: options.symmetricWeights,
    reduceRange: options.reduceRange,
    dedicatedPairs: options.profile.dedicatedPairs,
  };
  const source = req.calibration ?? defaultCalibration(work, req.data);
  const names = [...plan.activations.values()].filter((a) => !a.fixedRange && !a.sameAs).map((a) => a.name);
  const cal = await calibrate(work, names, dtypes, source, {
    method: options.calibMethod === 'easyquant' ? 'minmax' : options.calibMethod,
    target: { type: options.activationType, symmetric: options.symmetricActivations },
    percentile: options.percentile,
    batchSize: options.batchSize,
    runtime: req.runtime,
    onProgress: req.onProgress,
  });
  notes.push(...cal.warnings);
  const weightParams = new Map<string, QuantParams>();
  const weightRanges = new Map<string, QuantRange>();
  for (const w of plan.weights.values()) {
    const p = ternary
      ? ternaryParams(w.graph.initializers.get(w.name)!, w.axis)
      : weightQParams(w, emitOptions);
    weightParams.set(w.key, p);
    weightRanges.set(w.key, ternary ? TERNARY_RANGE : (p.codeRange ?? quantRange(p.type, options)));
  }
  const clean = cloneModel(work);
  const featureCounts = await perSampleSizes(work, [...plan.activations.keys()], req.data);
  const learn = req.learnScales ?? 'lsq';
  const sites = insertFakeQuant(work, plan, cal.params, weightParams, {
    learn,
    weightRanges,
    activationType: options.activationType,
    symmetricActivations: options.symmetricActivations,
    featureCounts,
  });
  const trained = await train(work, {
    ...req,
    scales: sites.filter((s) => s.learn !== 'none').map((s) => s.scale),
    loss: req.distill ? { kind: 'distillation', ...req.distill } : { kind: 'cross-entropy' },
    teacher: req.distill ? model : undefined,
  });
  const emit = exportQuantized(clean, dtypes, trained.parameters, sites, planOptions, emitOptions, work);
  if (emit.biasAdjusted.length > 0) {
    notes.push(`weight scales raised so int32 biases fit: ${emit.biasAdjusted.join(', ')}`);
  }
  let qoperator: QOperatorReport | undefined;
  if (options.format === 'qoperator') {
    qoperator = qdqToQOperator(clean);
    for (const k of qoperator.kept) notes.push(`${k.node}: left in QDQ form (${k.reason})`);
  }
  clean.setMetadata(
    'quantkit.quantization',
    JSON.stringify({
      method: 'qat',
      learnScales: learn,
      weightType: req.weightType ?? options.weightType,
      steps: req.steps,
    }),
  );
  return {
    model: clean,
    fakeQuant: trained.model,
    report: {
      options,
      learnScales: learn,
      activations: countSites(sites, 'activation'),
      weights: countSites(sites, 'weight'),
      calibrationSamples: cal.samples,
      history: trained.history,
      evalAccuracy: trained.evalAccuracy,
      samplesPerSecond: trained.samplesPerSecond,
      emit,
      qoperator,
      notes,
      seconds: (performance.now() - start) / 1000,
    },
  };
}

function countSites(sites: readonly FakeQuantSite[], kind: FakeQuantSite['kind']): number {
  return sites.filter((s) => s.kind === kind).length;
}

function defaultCalibration(model: Model, data: TrainData): SampleSource {
  return arraySampleSource(data.inputs, requiredInputs(model.graph), { limit: DEFAULT_CALIBRATION_SAMPLES });
}

/** Elements per sample of each value (LSQ's N for activations), from one sample run through the model. */
async function perSampleSizes(
  model: Model,
  names: readonly string[],
  data: TrainData,
): Promise<Map<string, number>> {
  const inner = names.filter((n) => !model.graph.isGraphInput(n));
  const runner = await Runner.create(model, { extraOutputs: inner });
  try {
    const one = Object.fromEntries(Object.entries(data.inputs).map(([k, v]) => [k, sliceAxis0(v, 0, 1)]));
    const out = { ...one, ...(await runner.run(one, inner)) };
    return new Map(names.map((n) => [n, out[n].shape.reduce((a, b) => a * b, 1)]));
  } finally {
    await runner.release();
  }
}
