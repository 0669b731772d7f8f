/**
 * Options of `quantize()` and of `quantkit quantize`; the CLI flags map one to one onto these fields.
 * Every field is optional: defaults are chosen per mode and target (see `resolveOptions`).
 */
import type { QuantType } from '../quant/types.js';

export type QuantMode = 'static' | 'dynamic' | 'fp16';
export type QuantFormat = 'qdq' | 'qoperator';
export type CalibMethod = 'minmax' | 'ema' | 'percentile' | 'entropy' | 'mse' | 'aciq' | 'admm' | 'easyquant';
export type Target = 'ort-cpu' | 'tensorrt';

export interface QuantizeOptions {
  /** Default: 'static' when calibration data is given, else 'dynamic'. */
  mode?: QuantMode;
  /** Static only. Default 'qdq'. */
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
}
