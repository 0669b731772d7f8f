/**
 * Options of `quantize()` and of `quantkit quantize`; the CLI flags map one to one onto these fields.
 * Every field is optional: defaults are chosen per mode and target (see `resolveOptions`).
 */
import type { SymmetricRule } from '../algorithms/weight-quantizer.js';
import type { QuantType } from '../quant/types.js';

export type QuantMode = 'static' | 'dynamic' | 'fp16' | 'weight-only';
export type QuantFormat = 'qdq' | 'qoperator';
/** Weight-only algorithms; awq and gptq need calibration data. */
export type WeightOnlyAlgorithm = 'rtn' | 'hqq' | 'awq' | 'gptq';
export type CalibMethod = 'minmax' | 'ema' | 'percentile' | 'entropy' | 'mse' | 'aciq' | 'admm' | 'easyquant';
/** A target profile (src/targets); `auto` and `ort-cpu` pick the CPU variant for this machine. */
export type Target =
  'auto' | 'ort-cpu' | 'ort-cpu:vnni' | 'ort-cpu:avx2' | 'ort-cpu:arm64' | 'ort-wasm' | 'tensorrt';

export interface QuantizeOptions {
  /** Default: 'static' when calibration data is given, else 'dynamic'. */
  mode?: QuantMode;
  /** Static (default 'qdq') and weight-only (default 'qoperator': MatMulNBits). */
  format?: QuantFormat;
  calibMethod?: CalibMethod;
  /** Percentile method: the percentile of |x| kept (default 99.999). */
  percentile?: number;
  /** Use only the first N calibration samples. */
  calibSamples?: number;
  weightType?: QuantType;
  activationType?: QuantType;
  /** Per-channel weights for Conv/Gemm/MatMul. Default true. */
  perChannel?: boolean;
  symmetricWeights?: boolean;
  symmetricActivations?: boolean;
  /** 7-bit weights, for x86 CPUs without VNNI. Default: on when the CPU has no VNNI. */
  reduceRange?: boolean;
  /** Quantize only these op types. */
  opTypes?: string[];
  excludeOpTypes?: string[];
  /** Node names to leave in float. */
  excludeNodes?: string[];
  target?: Target;
  /** FP16 mode: op types kept in float32 besides the defaults. */
  keepFloat32Ops?: string[];
  /** Weight-only: bits per weight, 4 (default), 8 or 2. */
  bits?: number;
  /** Weight-only: weights per block along K, 16 to 256 (default 32). */
  blockSize?: number;
  /** Weight-only: zero point fixed at 2^(bits−1). Default true for rtn, false for hqq. */
  symmetric?: boolean;
  /** Weight-only, symmetric: 'signed-max' (default, ONNX Runtime's rule) or 'restricted' (DOMAIN.md). */
  symmetricRule?: SymmetricRule;
  /** Weight-only: 'rtn' (default), 'hqq', or 'awq' / 'gptq' (these two need calibration data). */
  algorithm?: WeightOnlyAlgorithm;
  /** Weight-only: leave the output projection (the MatMul/Gemm nearest the first output) in float. */
  keepLmHead?: boolean;
  /** Weight-only, MatMulNBits: the accuracy_level attribute (1 fp32 … 4 int8 activations). */
  accuracyLevel?: number;
  /** Weight-only GPTQ: damping added to the Hessian's diagonal, as a fraction of its mean (default 0.01). */
  damp?: number;
  /** Weight-only GPTQ: quantize input channels by descending Hessian diagonal (static groups). */
  actOrder?: boolean;
  /** Static, mixed precision: leave the N most sensitive layers in float. */
  keepFloat?: number;
  /** Static, mixed precision: layers left in float run in float16 instead of float32. */
  float16Fallback?: boolean;
  /**
   * Static, mixed precision: the most top-1 accuracy (in points: 0.5 is half a point) the result may
   * lose on the evaluation data; the most sensitive layers go back to float until it holds.
   */
  maxAccuracyDrop?: number;
  /** Static, mixed precision: average weight bits (4 to 8); layers get 4-bit weights, least sensitive first. */
  bitsBudget?: number;
}
