/**
 * quantkit's public API. Node entry point: model files, ONNX Runtime sessions and the library core.
 */
export { QuantkitError, isQuantkitError } from './errors.js';

// Quantization and evaluation
export {
  quantize,
  type QuantizeRequest,
  type QuantizeReport,
  type QuantizeResult,
} from './pipeline/quantize.js';
export type { QuantizeOptions, QuantMode, QuantFormat, CalibMethod, Target } from './pipeline/options.js';
export { resolveOptions, type ResolvedOptions, type HostInfo } from './pipeline/resolve.js';
export { evaluate, type EvaluateOptions } from './evaluate/evaluate.js';
export type { Evaluation, Comparison, LatencyFigures, ModelFigures } from './evaluate/result.js';
export { measureLatency, cpuFeatures, type CpuFeatures } from './runtime/latency.js';
export type { ProgressCallback, ProgressEvent } from './progress.js';
export { verifyQuantized, type Verification, type VerifyOptions } from './pipeline/verify.js';
export type { SpeedDecision } from './pipeline/speed-plan.js';
export type { LmMetrics, LmFigures } from './evaluate/perplexity.js';

// Targets
export { TARGETS, resolveTarget, targetNames, type ResolvedTarget } from './targets/registry.js';
export type { TargetProfile } from './targets/profile.js';
export { tensorRtViolations } from './targets/tensorrt-rules.js';

// Data
export {
  openSampleSource,
  arraySampleSource,
  type SampleSource,
  type SampleSourceOptions,
} from './data/sample-source.js';
export { requiredInputs, type ModelInput } from './data/model-inputs.js';
export { readLabels } from './data/labels.js';
export { readNpy, readNpz, writeNpy, writeNpz } from './data/npy-file.js';
export { parseNpy, serializeNpy } from './tensor/npy.js';
export { parseNpz, serializeNpz } from './tensor/npz.js';

// Graph passes, for building custom pipelines
export { prepareModel, type PrepareOptions, type PrepareReport } from './passes/prepare/prepare-model.js';
export { quantizeDynamic, type DynamicReport } from './passes/dynamic/quantize-dynamic.js';
export { convertToFloat16, type Fp16Report } from './passes/fp16/convert.js';
export { planStatic, type QuantPlan } from './passes/qdq/plan.js';
export { emitQdq } from './passes/qdq/emit.js';
export { qdqToQOperator } from './passes/qoperator/convert.js';
export { quantizeWeightOnly, type WeightOnlyReport } from './passes/weight-only/quantize-weight-only.js';
export type { WeightOnlyOptions } from './passes/weight-only/options.js';
export { exposeValues } from './passes/expose-values.js';
export { inferDtypes } from './onnx/infer-dtypes.js';
export { cloneModel } from './onnx/clone.js';

// Quantization math
export { qparamsFromRange, computeQParams, type QuantParams, type ScaleZeroPoint } from './quant/qparams.js';
export { quantize as quantizeArray } from './quant/quantize.js';
export { dequantize as dequantizeArray } from './quant/dequantize.js';
export { type QuantType, quantRange } from './quant/types.js';
export { quantizeWeight } from './quant/weights.js';

// Models: load/save, IR, builders
export {
  loadModel,
  saveModel,
  type LoadOptions,
  type SaveOptions,
  type SaveResult,
} from './io/model-file.js';
export { Model } from './onnx/model.js';
export { Graph } from './onnx/graph.js';
export { Node, type NodeInit } from './onnx/node.js';
export { Attribute } from './onnx/attribute.js';
export { Tensor, type TensorPayload } from './onnx/tensor.js';
export { makeGraph, makeModel, type GraphSpec, type ModelSpec } from './onnx/builders.js';
export { makeValueInfo, makeTensorType, tensorTypeOf, type Dim, type TensorType } from './onnx/value-info.js';
export { decodeModel, type DecodeContext } from './onnx/decode.js';
export {
  encodeModel,
  joinPieces,
  PROTOBUF_LIMIT,
  type EncodedModel,
  type ExternalDataOptions,
  type Piece,
} from './onnx/encode.js';
export { MemorySource, type ByteSource, type SourceRange } from './onnx/byte-source.js';
export { summarizeModel, type ModelSummary } from './onnx/summary.js';

// Tensors
export {
  type DType,
  dtypeInfo,
  dtypeFromOnnx,
  onnxDataType,
  storageBytes,
  type TypedArray,
} from './tensor/dtype.js';
export type { NdArray } from './tensor/ndarray.js';

// Runtime
export { Runner, type RuntimeOptions } from './runtime/session.js';
export type { RuntimeArray, StringArray } from './runtime/ort-tensor.js';
