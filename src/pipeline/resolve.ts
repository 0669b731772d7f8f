/**
 * Turns what the user asked for into complete, checked settings, recording why each default was
 * chosen: the same flags can mean different things on different machines (reduce-range matters only
 * without VNNI), and users should be able to read which choice was made for them.
 */
import { QuantkitError } from '../errors.js';
import { isEstimatorName } from '../calibrate/estimators.js';
import { DEFAULT_OP_TYPES } from '../passes/qdq/op-rules.js';
import type { PlanOptions } from '../passes/qdq/plan.js';
import { type ResolvedWeightOnlyOptions, resolveWeightOnlyOptions } from '../passes/weight-only/options.js';
import { isSignedQuantType, type QuantType, quantTypeBits } from '../quant/types.js';
import type { TargetProfile } from '../targets/profile.js';
import { type HostInfo, resolveTarget } from '../targets/registry.js';
import type { CalibMethod, QuantFormat, QuantMode, QuantizeOptions } from './options.js';
import { type ResolvedMixedPrecision, resolveMixedPrecision } from './mixed-precision-options.js';

export type { HostInfo } from '../targets/registry.js';

export interface ResolvedOptions {
  mode: QuantMode;
  format: QuantFormat;
  calibMethod: CalibMethod;
  percentile: number;
  calibSamples: number | undefined;
  batchSize: number;
  weightType: QuantType;
  activationType: QuantType;
  perChannel: boolean;
  symmetricWeights: boolean;
  symmetricActivations: boolean;
  reduceRange: boolean;
  opTypes: readonly string[];
  excludeOpTypes: readonly string[];
  excludeNodes: readonly string[];
  /** The target profile's name (`auto` and `ort-cpu` resolved for this machine). */
  target: string;
  profile: TargetProfile;
  keepFloat32Ops: readonly string[];
  /** Weight-only mode's settings; undefined in the other modes. */
  weightOnly: ResolvedWeightOnlyOptions | undefined;
  /** Mixed-precision settings; undefined when none was asked for. */
  mixedPrecision: ResolvedMixedPrecision | undefined;
  /** One line per default that depended on the data, the target or the machine. */
  reasons: string[];
  /** Choices known to be slow or lossy on the target, one line each. */
  warnings: string[];
}

/**
 * The default calibration method: MinMax. On the bundled CNN, MLP and transformer every method lands
 * within 0.2 point of the others (README, "Calibration methods"), and MinMax is the one computed
 * entirely inside the ONNX Runtime session (≈1.3–1.5× the cost of inference, against ≈1.9× for exact
 * percentiles and ≈4× for the histogram methods), exact and independent of batching — and ONNX
 * Runtime's own default. Heavy-tailed activations (Silero VAD here) do better with entropy or mse.
 */
export const DEFAULT_CALIB_METHOD: CalibMethod = 'minmax';
export const DEFAULT_PERCENTILE = 99.999;
export const DEFAULT_CALIB_BATCH = 32;

const CALIB_METHODS: readonly CalibMethod[] = [
  'minmax',
  'ema',
  'percentile',
  'entropy',
  'mse',
  'aciq',
  'admm',
  'easyquant',
];

export function resolveOptions(
  o: QuantizeOptions & { calibBatch?: number },
  ctx: { hasCalibration: boolean; host: HostInfo },
): ResolvedOptions {
  const reasons: string[] = [];
  const { profile, reason } = resolveTarget(o.target ?? 'auto', ctx.host);
  reasons.push(reason);
  const target = profile.name;
  const mode = o.mode ?? (ctx.hasCalibration ? 'static' : 'dynamic');
  if (o.mode === undefined) {
    reasons.push(
      ctx.hasCalibration
        ? 'mode: static (calibration data given)'
        : 'mode: dynamic (no calibration data given)',
    );
  }
  if (mode === 'static' && !ctx.hasCalibration) {
    throw new QuantkitError(
      'static quantization needs calibration data (--calib-data PATH: a few hundred representative inputs); ' +
        'without data, use --mode dynamic or --mode fp16',
    );
  }
  if (o.format && mode !== 'static' && mode !== 'weight-only') {
    throw new QuantkitError(`--format applies to static and weight-only quantization, not to --mode ${mode}`);
  }
  const calibMethod = o.calibMethod ?? DEFAULT_CALIB_METHOD;
  if (o.calibMethod === undefined && mode === 'static') {
    reasons.push(
      'calibration: minmax (the default; entropy or mse can do better on heavy-tailed activations)',
    );
  }
  if (!CALIB_METHODS.includes(calibMethod)) {
    throw new QuantkitError(
      `unknown calibration method '${calibMethod}' (choose from ${CALIB_METHODS.join(', ')})`,
    );
  }
  if (calibMethod !== 'easyquant' && !isEstimatorName(calibMethod)) {
    throw new QuantkitError(`calibration method '${calibMethod}' has no range estimator`);
  }
  const percentile = o.percentile ?? DEFAULT_PERCENTILE;
  if (!(percentile > 0 && percentile <= 100)) {
    throw new QuantkitError(`--percentile must be in (0, 100], got ${o.percentile}`);
  }
  const tensorrt = profile.runtime === 'tensorrt';
  if (!profile.allowDynamic && mode === 'dynamic') {
    throw new QuantkitError(
      `${target} cannot run dynamic quantization (it has no DynamicQuantizeLinear); give --calib-data for static QDQ`,
    );
  }
  if (!profile.allowQOperator && o.format === 'qoperator') {
    throw new QuantkitError(`${target} reads QDQ models only; drop --format qoperator`);
  }
  const activationType = o.activationType ?? profile.activationType;
  const weightType = o.weightType ?? profile.weightType;
  if (tensorrt && (activationType !== 'int8' || weightType !== 'int8')) {
    throw new QuantkitError('TensorRT runs int8 Q/DQ only: use --weight-type int8 --act-type int8');
  }
  const format = o.format ?? (mode === 'weight-only' ? 'qoperator' : 'qdq');
  if (format === 'qoperator' && (quantTypeBits(activationType) !== 8 || quantTypeBits(weightType) !== 8)) {
    throw new QuantkitError(
      'the QOperator format has integer operators for 8-bit types only; use --format qdq for ' +
        `${quantTypeBits(activationType) !== 8 ? activationType : weightType}`,
    );
  }
  const symmetricActivations = o.symmetricActivations ?? profile.symmetricActivations;
  if (tensorrt && !symmetricActivations) {
    throw new QuantkitError('TensorRT needs symmetric activations; drop --asymmetric-activations');
  }
  const symmetricWeights = o.symmetricWeights ?? (profile.symmetricWeights || isSignedQuantType(weightType));
  // The 16-bit saturation reduce-range avoids exists only in 8-bit integer kernels.
  const reduceRange =
    o.reduceRange ??
    ((mode === 'static' || mode === 'dynamic') && quantTypeBits(weightType) === 8 && profile.reduceRange);
  const chosen = { activationType, weightType, reduceRange, symmetricActivations };
  const warnings =
    mode === 'fp16' || mode === 'weight-only'
      ? []
      : profile.cautions.filter((c) => c.applies(chosen)).map((c) => `${target}: ${c.message}`);
  const batchSize = o.calibBatch ?? DEFAULT_CALIB_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new QuantkitError(`the calibration batch size must be a positive integer, got ${o.calibBatch}`);
  }
  if (o.calibSamples !== undefined && !(Number.isSafeInteger(o.calibSamples) && o.calibSamples > 0)) {
    throw new QuantkitError(`--calib-samples must be a positive integer, got ${o.calibSamples}`);
  }
  return {
    mode,
    format,
    calibMethod,
    percentile,
    calibSamples: o.calibSamples,
    batchSize,
    weightType,
    activationType,
    perChannel: o.perChannel ?? profile.perChannel,
    symmetricWeights,
    symmetricActivations,
    reduceRange,
    opTypes: o.opTypes ?? DEFAULT_OP_TYPES,
    excludeOpTypes: o.excludeOpTypes ?? [],
    excludeNodes: o.excludeNodes ?? [],
    target,
    profile,
    keepFloat32Ops: o.keepFloat32Ops ?? [],
    weightOnly: resolveWeightOnly(o, mode, ctx.hasCalibration, reasons),
    mixedPrecision: resolveMixedPrecision(o, mode, weightType),
    reasons,
    warnings,
  };
}

const WEIGHT_ONLY_FLAGS = {
  bits: '--bits',
  blockSize: '--block-size',
  symmetric: '--symmetric/--asymmetric',
  symmetricRule: '--symmetric-rule',
  algorithm: '--algorithm',
  keepLmHead: '--keep-lm-head',
  accuracyLevel: '--accuracy-level',
  damp: '--damp',
  actOrder: '--act-order',
} as const;

/** Weight-only settings (passes/weight-only/options.ts checks them); its flags are refused elsewhere. */
function resolveWeightOnly(
  o: QuantizeOptions,
  mode: QuantMode,
  hasCalibration: boolean,
  reasons: string[],
): ResolvedWeightOnlyOptions | undefined {
  if (mode !== 'weight-only') {
    const given = Object.entries(WEIGHT_ONLY_FLAGS).find(
      ([key]) => o[key as keyof QuantizeOptions] !== undefined,
    );
    if (given) throw new QuantkitError(`${given[1]} applies to --mode weight-only, not to --mode ${mode}`);
    return undefined;
  }
  const calibrated = o.algorithm === 'awq' || o.algorithm === 'gptq';
  if (calibrated && !hasCalibration) {
    throw new QuantkitError(
      `--algorithm ${o.algorithm} learns from the layers' inputs and needs calibration data: --calib-data ` +
        'IDS.npy (int64 token ids [windows, tokens]) or an .npz with every model input; or use rtn or hqq',
    );
  }
  if (hasCalibration && !calibrated)
    reasons.push('calibration data: not used (rtn and hqq quantize weights without data)');
  const resolved = resolveWeightOnlyOptions({
    bits: o.bits,
    blockSize: o.blockSize,
    symmetric: o.symmetric,
    symmetricRule: o.symmetricRule,
    algorithm: o.algorithm,
    format: o.format,
    keepLmHead: o.keepLmHead,
    accuracyLevel: o.accuracyLevel,
    gptq:
      o.damp === undefined && o.actOrder === undefined ? undefined : { damp: o.damp, actOrder: o.actOrder },
    opTypes: o.opTypes,
    excludeOpTypes: o.excludeOpTypes,
    excludeNodes: o.excludeNodes,
  });
  if (o.symmetric === undefined) {
    reasons.push(
      resolved.symmetric
        ? 'weights: symmetric (the default, as transformers.js q4; --asymmetric fits them more closely for 2.5% more bytes)'
        : 'weights: asymmetric (HQQ fits a zero point per block)',
    );
  }
  return resolved;
}

/** How the static planner reads the resolved options (quantize and qat plan alike). */
export function planOptionsFor(o: ResolvedOptions): PlanOptions {
  return {
    opTypes: o.opTypes,
    filter: { excludeOpTypes: o.excludeOpTypes, excludeNodes: o.excludeNodes },
    perChannel: o.perChannel,
    quantizeBias: o.profile.quantizeBias,
    weightedMatMulOnly: o.profile.weightedMatMulOnly,
  };
}
