/**
 * Options of dynamic quantization. The fields are those of `QuantizeOptions` (src/pipeline/options.ts)
 * with the same names and meaning, so a `QuantizeOptions` object can be passed as it is.
 */
import { QuantkitError } from '../../errors.js';
import type { QuantizeOptions } from '../../pipeline/options.js';
import { isSignedQuantType } from '../../quant/types.js';
import type { NodeFilter } from '../node-filter.js';

export type DynamicOptions = Pick<
  QuantizeOptions,
  | 'weightType'
  | 'perChannel'
  | 'symmetricWeights'
  | 'reduceRange'
  | 'opTypes'
  | 'excludeOpTypes'
  | 'excludeNodes'
>;

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
    reduceRange: options.reduceRange ?? false,
    filter: {
      opTypes: options.opTypes,
      excludeOpTypes: options.excludeOpTypes,
      excludeNodes: options.excludeNodes,
    },
  };
}
