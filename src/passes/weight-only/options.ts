/**
 * Options of weight-only quantization: MatMul/Gemm weights become `bits`-bit integers in blocks along
 * K, activations stay float. Every check that does not depend on the model happens here, so that a
 * bad option fails before any weight is read.
 */
import { QuantkitError } from '../../errors.js';
import type { GptqOptions } from '../../algorithms/gptq.js';
import type { HqqOptions } from '../../algorithms/hqq.js';
import type { SymmetricRule, WeightAlgorithm } from '../../algorithms/weight-quantizer.js';
import type { TensorSink } from '../../onnx/tensor-sink.js';
import type { NodeFilter } from '../node-filter.js';

export type WeightOnlyFormat = 'qoperator' | 'qdq';

export interface WeightOnlyOptions extends NodeFilter {
  /**
   * 4 (default), 8 or 2: the bit widths ONNX Runtime 1.30's MatMulNBits runs; 3 with format 'qdq'
   * (3-bit codes stored as int4/uint4).
   */
  bits?: number;
  /** Weights per block along K: a power of two from 16 to 256. Default 32, as transformers.js q4. */
  blockSize?: number;
  /**
   * Zero point fixed at 2^(bits−1). Default true for RTN, AWQ and GPTQ (as transformers.js q4); HQQ is
   * asymmetric.
   */
  symmetric?: boolean;
  /** Symmetric scale rule (algorithms/rtn.ts). Default 'signed-max', ONNX Runtime's own. */
  symmetricRule?: SymmetricRule;
  /** Default 'rtn'. */
  algorithm?: WeightAlgorithm;
  /** 'qoperator' (default): com.microsoft.MatMulNBits; 'qdq': blocked DequantizeLinear → MatMul. */
  format?: WeightOnlyFormat;
  /** Leave the output projection (the MatMul/Gemm nearest the first graph output) in float. */
  keepLmHead?: boolean;
  /** MatMulNBits' accuracy_level (1 fp32, 2 fp16, 3 bf16, 4 int8 activations); omitted unless given. */
  accuracyLevel?: number;
  /** HQQ solver settings; ONNX Runtime's by default. */
  hqq?: HqqOptions;
  /** GPTQ settings (damping, act-order); ONNX Runtime's defaults. */
  gptq?: GptqOptions;
  /**
   * Where each quantized weight goes as soon as it is made (src/io/spill-file.ts), so that models
   * larger than memory hold one layer at a time; by default they stay in memory.
   */
  sink?: TensorSink;
}

export interface ResolvedWeightOnlyOptions {
  bits: number;
  blockSize: number;
  symmetric: boolean;
  symmetricRule: SymmetricRule;
  algorithm: WeightAlgorithm;
  format: WeightOnlyFormat;
  keepLmHead: boolean;
  accuracyLevel: number | undefined;
  hqq: HqqOptions;
  gptq: GptqOptions;
  filter: NodeFilter;
}

/** The bit widths ONNX Runtime 1.30's MatMulNBits accepts (its kernel rejects 3, 5, 6, 7), and 3 for QDQ. */
const WEIGHT_ONLY_BITS: readonly number[] = [2, 3, 4, 8];
const ALGORITHMS: readonly string[] = ['rtn', 'hqq', 'awq', 'gptq'];
const DEFAULT_BLOCK_SIZE = 32;
/** ONNX Runtime 1.30's CPU MatMulNBits kernel takes these block sizes only. */
const BLOCK_SIZES: readonly number[] = [16, 32, 64, 128, 256];

export function resolveWeightOnlyOptions(o: WeightOnlyOptions): ResolvedWeightOnlyOptions {
  const bits = o.bits ?? 4;
  if (!WEIGHT_ONLY_BITS.includes(bits)) {
    throw new QuantkitError(
      `--bits must be ${WEIGHT_ONLY_BITS.join(', ')} for weight-only quantization, got ${bits}`,
    );
  }
  const blockSize = o.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!BLOCK_SIZES.includes(blockSize)) {
    throw new QuantkitError(
      `--block-size must be a power of two from 16 to 256 (what MatMulNBits runs), got ${blockSize}`,
    );
  }
  const algorithm = o.algorithm ?? 'rtn';
  if (!ALGORITHMS.includes(algorithm)) {
    throw new QuantkitError(`unknown weight-only algorithm '${algorithm}' (choose ${ALGORITHMS.join(', ')})`);
  }
  if (algorithm === 'hqq' && o.symmetric === true) {
    throw new QuantkitError('HQQ optimises the zero point, so it is asymmetric: drop --symmetric');
  }
  const symmetricRule = o.symmetricRule ?? 'signed-max';
  if (symmetricRule !== 'signed-max' && symmetricRule !== 'restricted') {
    throw new QuantkitError(`unknown symmetric rule '${symmetricRule}' (choose signed-max or restricted)`);
  }
  const format = o.format ?? 'qoperator';
  if (format !== 'qoperator' && format !== 'qdq') {
    throw new QuantkitError(`unknown weight-only format '${format}' (choose qoperator or qdq)`);
  }
  if (format === 'qoperator' && bits === 3) {
    throw new QuantkitError(
      "ONNX Runtime's MatMulNBits runs 2, 4 and 8 bits; 3-bit weights need --format qdq (stored as int4)",
    );
  }
  const damp = o.gptq?.damp;
  if (damp !== undefined && !(damp >= 0 && Number.isFinite(damp))) {
    throw new QuantkitError(`--damp must be a non-negative number, got ${damp}`);
  }
  if (algorithm !== 'gptq' && (damp !== undefined || o.gptq?.actOrder !== undefined)) {
    throw new QuantkitError('--damp and --act-order are GPTQ settings: add --algorithm gptq');
  }
  if (format === 'qdq' && bits === 2) {
    throw new QuantkitError(
      '2-bit weights have no DequantizeLinear type before ONNX opset 25; use --format qoperator (MatMulNBits)',
    );
  }
  const accuracyLevel = o.accuracyLevel;
  if (accuracyLevel !== undefined) {
    if (!(Number.isInteger(accuracyLevel) && accuracyLevel >= 0 && accuracyLevel <= 4)) {
      throw new QuantkitError(`--accuracy-level must be 0, 1, 2, 3 or 4, got ${accuracyLevel}`);
    }
    if (format === 'qdq') {
      throw new QuantkitError(
        '--accuracy-level is a MatMulNBits attribute; it has no meaning with --format qdq',
      );
    }
  }
  return {
    bits,
    blockSize,
    symmetric: o.symmetric ?? algorithm !== 'hqq',
    symmetricRule,
    algorithm,
    format,
    keepLmHead: o.keepLmHead ?? false,
    // 0 means "unset" in the spec; ONNX Runtime's quantizer omits it too.
    accuracyLevel: accuracyLevel === 0 ? undefined : accuracyLevel,
    hqq: o.hqq ?? {},
    gptq: o.gptq ?? {},
    filter: { opTypes: o.opTypes, excludeOpTypes: o.excludeOpTypes, excludeNodes: o.excludeNodes },
  };
}
