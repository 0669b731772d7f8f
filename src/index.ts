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

// Analysis: per-layer error, sensitivity, mixed precision, reports
export {
  debugQuantized,
  type DebugResult,
  type DebugOptions,
  type TensorError,
  type ErrorFigures,
} from './analysis/debug.js';
export type { WeightError } from './analysis/weight-error.js';
export type { Sensitivity } from './analysis/sensitivity.js';
export type { CandidateMetrics } from './analysis/reference-run.js';
export type {
  MixedPrecisionReport,
  MixedPrecisionRequest,
  LayerPrecision,
  Precision,
} from './pipeline/mixed-precision.js';
export { debugReportDocument, debugSections } from './analysis/report-debug.js';
export {
  sensitivityReportDocument,
  sensitivitySections,
  mixedPrecisionSections,
} from './analysis/report-sensitivity.js';
export type { ReportDocument, ReportSection } from './report/document.js';
export { renderHtmlReport } from './report/html.js';
export { quantizeReportDocument, type QuantizeRun } from './report/quantize-report.js';
export { reportSubtitle } from './report/subtitle.js';
export { checkReportPath, writeHtmlReport } from './io/html-report.js';

// Gradients (the training engine's core)
export {
  buildGradientModel,
  registerGradient,
  type GradientRequest,
  type GradientModel,
  type GradientRule,
  type GradientContext,
  type EmitOptions as GradientEmitOptions,
} from './autodiff/gradient-model.js';
export {
  toTrainingBatchNorm,
  type BatchNormStatistics,
  type TrainingBatchNorm,
} from './autodiff/batchnorm-training.js';

// Training and quantization-aware training
export { quantizeAwareTraining, type QatRequest, type QatReport, type QatResult } from './training/qat.js';
export { trainModel, type TrainModelRequest, type TrainModelReport } from './training/train-model.js';
export { train, type TrainOptions, type TrainResult, type TrainLog } from './training/trainer.js';
export { loadTrainData, type TrainData } from './training/train-data.js';
export { createOptimizer, type OptimizerName, type OptimizerSettings } from './training/optim/create.js';
export type { Optimizer, Parameter } from './training/optim/optimizer.js';
export { learningRate, type Schedule, type ScheduleKind } from './training/schedule.js';
export { serializeCheckpoint, parseCheckpoint, type Checkpoint } from './training/checkpoint.js';
export { saveCheckpoint, loadCheckpoint } from './io/checkpoint-file.js';
export { FAKE_QUANT_DOMAIN, FAKE_QUANT_OP, defineFakeQuant } from './training/fake-quant/function.js';
export { registerFakeQuantGradient, type ScaleLearning } from './training/fake-quant/gradient.js';

// Data
export {
  openSampleSource,
  arraySampleSource,
  type SampleSource,
  type SampleSourceOptions,
} from './data/sample-source.js';
export { requiredInputs, type ModelInput } from './data/model-inputs.js';
export { readLabels } from './data/labels.js';
export { openTextSource, type TextSourceOptions } from './data/text-data.js';
export { readTokenizer, type TextTokenizer } from './data/tokenizer-file.js';
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
export {
  quantizeWeightOnlyCalibrated,
  type WeightCalibration,
} from './passes/weight-only/quantize-calibrated.js';
export type { CalibratedWeights } from './passes/weight-only/quantize-weight-only.js';
export { gptq, type GptqOptions } from './algorithms/gptq.js';
export { awqSearch, awqClip, clippedRtn, type AwqEvaluator } from './algorithms/awq.js';
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
export type { TensorSink } from './onnx/tensor-sink.js';
export { SpillFile, spillFileFor } from './io/spill-file.js';
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
