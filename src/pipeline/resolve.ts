/**
 * Turns what the user asked for into complete, checked settings, recording why each default was
 * chosen: the same flags can mean different things on different machines (reduce-range matters only
 * without VNNI), and users should be able to read which choice was made for them.
 */
import { QuantkitError } from '../errors.js';
import { isEstimatorName } from '../calibrate/estimators.js';
import { DEFAULT_OP_TYPES } from '../passes/qdq/op-rules.js';
import { isSignedQuantType, type QuantType, quantTypeBits } from '../quant/types.js';
import type { CalibMethod, QuantFormat, QuantMode, QuantizeOptions, Target } from './options.js';

export interface HostInfo {
  arch: string;
  /** CPU flags as /proc/cpuinfo names them (avx2, avx512_vnni, avx_vnni, ...). */
  flags: readonly string[];
}

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
  target: Target;
  keepFloat32Ops: readonly string[];
  /** One line per default that depended on the data, the target or the machine. */
  reasons: string[];
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
  const target = o.target ?? 'ort-cpu';
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
  if (o.format && mode !== 'static') {
    throw new QuantkitError(`--format applies to static quantization only, not to --mode ${mode}`);
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
  const tensorrt = target === 'tensorrt';
  if (tensorrt && mode === 'dynamic') {
    throw new QuantkitError(
      'TensorRT cannot run dynamic quantization (it has no DynamicQuantizeLinear); give --calib-data for static QDQ',
    );
  }
  if (tensorrt && o.format === 'qoperator') {
    throw new QuantkitError('TensorRT reads QDQ models only; drop --format qoperator');
  }
  const activationType = o.activationType ?? (tensorrt ? 'int8' : 'uint8');
  const weightType = o.weightType ?? 'int8';
  if (tensorrt && (activationType !== 'int8' || weightType !== 'int8')) {
    throw new QuantkitError('TensorRT runs int8 Q/DQ only: use --weight-type int8 --act-type int8');
  }
  const format = o.format ?? 'qdq';
  if (format === 'qoperator' && (quantTypeBits(activationType) !== 8 || quantTypeBits(weightType) !== 8)) {
    throw new QuantkitError(
      'the QOperator format has integer operators for 8-bit types only; use --format qdq for ' +
        `${quantTypeBits(activationType) !== 8 ? activationType : weightType}`,
    );
  }
  const symmetricActivations = o.symmetricActivations ?? tensorrt;
  if (tensorrt && !symmetricActivations) {
    throw new QuantkitError('TensorRT needs symmetric activations; drop --asymmetric-activations');
  }
  const symmetricWeights = o.symmetricWeights ?? (tensorrt || isSignedQuantType(weightType));
  // The 16-bit saturation reduce-range avoids exists only in 8-bit integer kernels.
  const reduceRange =
    o.reduceRange ??
    (mode !== 'fp16' && quantTypeBits(weightType) === 8 && defaultReduceRange(target, ctx.host, reasons));
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
    perChannel: o.perChannel ?? true,
    symmetricWeights,
    symmetricActivations,
    reduceRange,
    opTypes: o.opTypes ?? DEFAULT_OP_TYPES,
    excludeOpTypes: o.excludeOpTypes ?? [],
    excludeNodes: o.excludeNodes ?? [],
    target,
    keepFloat32Ops: o.keepFloat32Ops ?? [],
    reasons,
  };
}

/**
 * Without an 8-bit dot-product instruction (VNNI), ONNX Runtime's x86 u8×s8 kernels add pairs of
 * products in 16 bits, which saturates with full-range int8 weights (measured here: −1 point on a
 * CNN whose simulation is perfect); 7-bit weights cannot saturate. arm64 kernels accumulate in 32 bits.
 */
function defaultReduceRange(target: Target, host: HostInfo, reasons: string[]): boolean {
  if (target === 'tensorrt') return false;
  if (host.arch === 'arm64') {
    reasons.push('reduce-range: off (arm64 integer kernels accumulate in 32 bits)');
    return false;
  }
  const vnni = host.flags.some((f) => f === 'avx512_vnni' || f === 'avx_vnni' || f === 'amx_int8');
  reasons.push(
    vnni
      ? 'reduce-range: off (this CPU has VNNI: no 16-bit saturation in int8 kernels)'
      : 'reduce-range: on (this CPU has no VNNI; full-range int8 weights would saturate 16-bit sums in ONNX Runtime)',
  );
  return !vnni;
}
