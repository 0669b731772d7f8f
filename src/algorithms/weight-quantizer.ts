/**
 * The data-free weight quantizers by name: one entry point turning a [K, N] float32 weight into
 * blocked codes, scales and zero points for the weight-only writers.
 */
import type { BlockQuantized } from './blocked-weight.js';
import { hqq, type HqqOptions } from './hqq.js';
import { rtn, type RtnRule } from './rtn.js';

/**
 * 'awq' and 'gptq' need calibration statistics (passes/weight-only/quantize-calibrated.ts): AWQ
 * rescales the weights and then rounds to nearest here; GPTQ's blocks come from gptq.ts.
 */
export type WeightAlgorithm = 'rtn' | 'hqq' | 'awq' | 'gptq';

/**
 * How a symmetric block is scaled (rtn.ts): 'signed-max' (ONNX Runtime's rule, every code used) or
 * 'restricted' (DOMAIN.md's ±(2^(b−1) − 1)).
 */
export type SymmetricRule = Exclude<RtnRule, 'asymmetric'>;

export interface BlockQuantSpec {
  algorithm: WeightAlgorithm;
  bits: number;
  blockSize: number;
  /** RTN only: HQQ always fits a zero point. */
  symmetric: boolean;
  symmetricRule: SymmetricRule;
  hqq?: HqqOptions;
}

export function quantizeBlocks(
  weight: Float32Array,
  k: number,
  n: number,
  spec: BlockQuantSpec,
): BlockQuantized {
  const shape = { k, n, bits: spec.bits, blockSize: spec.blockSize };
  if (spec.algorithm === 'hqq') return hqq(weight, shape, spec.hqq);
  return rtn(weight, shape, rtnRule(spec));
}

/** A phrase for reports: "RTN, signed-max symmetric", "HQQ, asymmetric". */
export function describeBlockQuant(spec: BlockQuantSpec): string {
  const rule = spec.algorithm === 'hqq' ? 'asymmetric' : rtnRule(spec);
  return `${spec.algorithm.toUpperCase()}, ${rule === 'asymmetric' ? rule : `${spec.symmetricRule} symmetric`}`;
}

function rtnRule(spec: BlockQuantSpec): RtnRule {
  return spec.symmetric ? spec.symmetricRule : 'asymmetric';
}
