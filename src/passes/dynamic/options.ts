/**
 * Options of dynamic quantization. The fields are those of `QuantizeOptions` (src/pipeline/options.ts)
 * with the same names and meaning, so a `QuantizeOptions` object can be passed as it is; lists may be
 * read-only.
 */
import { QuantkitError } from '../../errors.js';
import type { QuantizeOptions } from '../../pipeline/options.js';
import { isSignedQuantType } from '../../quant/types.js';
import type { NodeFilter } from '../node-filter.js';

export interface DynamicOptions extends NodeFilter {
  /** int8 (default) or uint8; Conv weights are always uint8 (ConvInteger has no int8-weight kernel). */
  weightType?: QuantizeOptions['weightType'];
  /** One scale per output channel (default true). */
  perChannel?: boolean;
  /** Default: true for int8, false for uint8. */
  symmetricWeights?: boolean;
  /**
   * 7-bit weights (default: true for int8). On x86 CPUs without VNNI, ONNX Runtime's u8×s8 kernels
   * saturate with full-range int8 weights (measured: the mlp fixture's top-1 agreement fell to 2 of 3
   * rows), and the machine that runs a model is not always the one that quantizes it; pass false
   * when the target has VNNI (the pipeline decides from the CPU).
   */
  reduceRange?: boolean;
}

export type DynamicWeightType = 'int8' | 'uint8';

export interface ResolvedDynamicOptions {
  /** MatMul, Gemm and LSTM weights; Conv weights are always uint8 (see conv.ts). */
  weightType: DynamicWeightType;
  /** Whether the user chose the weight type; decides whether the Conv override is worth a note. */
  weightTypeGiven: boolean;
  perChannel: boolean;
  symmetric: boolean;
  symmetricGiven: boolean;
  reduceRange: boolean;
  filter: NodeFilter;
}

export function resolveDynamicOptions(options: DynamicOptions): ResolvedDynamicOptions {
  const weightType = options.weightType ?? 'int8';
  if (weightType !== 'int8' && weightType !== 'uint8') {
    throw new QuantkitError(
      `dynamic quantization supports int8 and uint8 weights, not ${weightType} ` +
        '(ONNX Runtime has no MatMulInteger/ConvInteger kernel for it); use --weight-type int8',
    );
  }
  return {
    weightType,
    weightTypeGiven: options.weightType !== undefined,
    perChannel: options.perChannel ?? true,
    symmetric: options.symmetricWeights ?? isSignedQuantType(weightType),
    symmetricGiven: options.symmetricWeights !== undefined,
    reduceRange: options.reduceRange ?? weightType === 'int8',
    filter: {
      opTypes: options.opTypes,
      excludeOpTypes: options.excludeOpTypes,
      excludeNodes: options.excludeNodes,
    },
  };
}
