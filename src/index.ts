/**
 * quantkit's public API. Node entry point: model files, ONNX Runtime sessions and the library core.
 */
export { QuantkitError, isQuantkitError } from './errors.js';

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

// Tensors and data
export {
  type DType,
  dtypeInfo,
  dtypeFromOnnx,
  onnxDataType,
  storageBytes,
  type TypedArray,
} from './tensor/dtype.js';
export { type NdArray } from './tensor/ndarray.js';

// Runtime
export { Runner, type RuntimeOptions } from './runtime/session.js';
export type { RuntimeArray, StringArray } from './runtime/ort-tensor.js';
