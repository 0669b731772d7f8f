/** Conversion between quantkit's arrays and onnxruntime tensors (no copies where the layout agrees). */
import * as ort from 'onnxruntime-node';
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';

export interface StringArray {
  dtype: 'string';
  shape: number[];
  data: string[];
}

/** What a model consumes and produces: numeric arrays, or string arrays. */
export type RuntimeArray = NdArray | StringArray;

const ORT_TYPES = new Set<string>([
  'float32',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'float64',
  'uint32',
  'uint64',
  'uint4',
  'int4',
]);

/** onnxruntime-node and onnxruntime-web each bundle their own (identical) Tensor class. */
export type TensorClass = typeof ort.Tensor;

export function toOrtTensor(arr: RuntimeArray, TensorCtor: TensorClass = ort.Tensor): ort.Tensor {
  if (!ORT_TYPES.has(arr.dtype)) {
    throw new QuantkitError(`ONNX Runtime cannot take ${arr.dtype} tensors as inputs or outputs`);
  }
  return new TensorCtor(arr.dtype as ort.Tensor.Type, arr.data as ort.Tensor.DataType, arr.shape);
}

export function fromOrtTensor(t: ort.Tensor): RuntimeArray {
  const shape = [...t.dims];
  if (t.type === 'string') return { dtype: 'string', shape, data: t.data as string[] };
  return { dtype: t.type, shape, data: t.data } as NdArray;
}
