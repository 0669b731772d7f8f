/**
 * Options of the float16 conversion and the op block list. The node-filter fields and
 * `keepFloat32Ops` are those of `QuantizeOptions` (src/pipeline/options.ts), so a `QuantizeOptions`
 * object can be passed as it is; lists may be read-only.
 */
import type { NodeFilter } from '../node-filter.js';

export interface Fp16Options extends NodeFilter {
  /**
   * Keep the model's float32 inputs and outputs float32, with Casts at the boundary (default true):
   * callers keep feeding and reading float32, as transformers.js's fp16 conversion does.
   */
  keepIoTypes?: boolean;
  /** Op types kept in float32 besides the block list. */
  keepFloat32Ops?: readonly string[];
  /** Replaces the default op block list (`DEFAULT_FP16_BLOCK_LIST`); `keepFloat32Ops` adds to either. */
  opBlockList?: readonly string[];
}

/** Why each op of the default block list stays float32. */
const REASONS: Record<string, string> = {
  // ONNX Runtime's transformers/float16.py DEFAULT_OP_BLOCK_LIST.
  ...Object.fromEntries(
    [
      'ArrayFeatureExtractor',
      'Binarizer',
      'CastMap',
      'CategoryMapper',
      'DictVectorizer',
      'FeatureVectorizer',
      'Imputer',
      'LabelEncoder',
      'LinearClassifier',
      'LinearRegressor',
      'Normalizer',
      'OneHotEncoder',
      'SVMClassifier',
      'SVMRegressor',
      'Scaler',
      'TreeEnsembleClassifier',
      'TreeEnsembleRegressor',
      'ZipMap',
    ].map((op) => [op, 'ONNX-ML operators take float32 only']),
  ),
  NonMaxSuppression: 'its boxes and scores are float32 only',
  TopK: "on ONNX Runtime's float16 block list",
  RoiAlign: "on ONNX Runtime's float16 block list",
  Resize: 'it reads float32 scales',
  Upsample: 'it reads float32 scales',
  Range: 'ONNX defines Range without float16',
  CumSum: "on ONNX Runtime's float16 block list",
  Min: "on ONNX Runtime's float16 block list",
  Max: "on ONNX Runtime's float16 block list",
  // Their output type comes from an attribute, not from their inputs.
  ...Object.fromEntries(
    [
      'RandomNormal',
      'RandomUniform',
      'RandomNormalLike',
      'RandomUniformLike',
      'Bernoulli',
      'Multinomial',
      'EyeLike',
      'HannWindow',
      'HammingWindow',
      'BlackmanWindow',
      'MelWeightMatrix',
    ].map((op) => [op, 'its output type is set by an attribute']),
  ),
  // ONNX Runtime's quantization ops compute in float32 (and its float16 QuantizeLinear is wrong on CPU,
  // onnxruntime#22741).
  ...Object.fromEntries(
    [
      'QuantizeLinear',
      'DequantizeLinear',
      'DynamicQuantizeLinear',
      'DynamicQuantizeMatMul',
      'MatMulIntegerToFloat',
      'DynamicQuantizeLSTM',
    ].map((op) => [op, 'quantization ops run in float32']),
  ),
};

export const DEFAULT_FP16_BLOCK_LIST: readonly string[] = Object.keys(REASONS);

/** ONNX Runtime contrib ops known to run in float16; other custom-domain ops stay float32. */
export const FLOAT16_CONTRIB_OPS = new Set([
  'MatMulNBits',
  'FusedMatMul',
  'Gelu',
  'FastGelu',
  'BiasGelu',
  'QuickGelu',
  'BiasAdd',
  'SkipLayerNormalization',
  'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization',
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'RotaryEmbedding',
]);

export interface ResolvedFp16Options {
  keepIoTypes: boolean;
  /** Blocked op type → why it stays float32. */
  blocked: Map<string, string>;
  filter: NodeFilter;
}

export function resolveFp16Options(options: Fp16Options): ResolvedFp16Options {
  const blocked = new Map<string, string>();
  for (const op of options.opBlockList ?? DEFAULT_FP16_BLOCK_LIST) {
    blocked.set(op, REASONS[op] && !options.opBlockList ? REASONS[op] : 'on the op block list');
  }
  for (const op of options.keepFloat32Ops ?? []) blocked.set(op, 'kept float32 as asked (keepFloat32Ops)');
  return {
    keepIoTypes: options.keepIoTypes ?? true,
    blocked,
    filter: {
      opTypes: options.opTypes,
      excludeOpTypes: options.excludeOpTypes,
      excludeNodes: options.excludeNodes,
    },
  };
}
