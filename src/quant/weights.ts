/**
 * A float weight tensor → its quantized form as ONNX tensors: integer values, scale and zero point,
 * named as the model will store them. Shared by every writer (QDQ, QOperator, dynamic).
 */
import { Tensor } from '../onnx/tensor.js';
import { type Granularity } from './granularity.js';
import { computeQParams, type QuantParams } from './qparams.js';
import { quantize } from './quantize.js';
import { type Rounding } from './rounding.js';
import type { QuantType } from './types.js';

export interface WeightSpec {
  type: QuantType;
  granularity: Granularity;
  symmetric: boolean;
  reduceRange?: boolean;
  rounding?: Rounding;
}

export interface QuantizedWeight {
  values: Tensor;
  /** float32: a scalar per tensor, [C] per axis, the blocked shape per block. */
  scale: Tensor;
  /** Same element type as `values`, same shape as `scale`. */
  zeroPoint: Tensor;
  params: QuantParams;
}

export interface WeightNames {
  values: string;
  scale: string;
  zeroPoint: string;
}

/** Quantizes a weight from its own range. Throws a QuantkitError naming it when it holds NaN/Inf. */
export function quantizeWeight(weight: Tensor, names: WeightNames, spec: WeightSpec): QuantizedWeight {
  const data = weight.toFloat32();
  const params = computeQParams(weight.name, data, weight.dims, spec.granularity, {
    type: spec.type,
    symmetric: spec.symmetric,
    reduceRange: spec.reduceRange,
  });
  return weightTensors(weight, names, params, spec.rounding);
}

/** The ONNX tensors for a weight quantized with given parameters (e.g. from a search or AdaRound). */
export function weightTensors(
  weight: Tensor,
  names: WeightNames,
  params: QuantParams,
  rounding?: Rounding,
): QuantizedWeight {
  const q = quantize(weight.toFloat32(), weight.dims, params, { rounding });
  const zp = Int32Array.from(params.zeroPoint);
  return {
    values: Tensor.fromArray(names.values, params.type, weight.dims, q),
    scale: Tensor.fromArray(names.scale, 'float32', params.shape, params.scale),
    zeroPoint: Tensor.fromArray(names.zeroPoint, params.type, params.shape, codesArray(params.type, zp)),
    params,
  };
}

/** Integer codes in the typed array a tensor of `type` holds them in (4-bit types one per byte). */
export function codesArray(
  type: QuantType,
  codes: ArrayLike<number>,
): Int8Array | Uint8Array | Int16Array | Uint16Array {
  switch (type) {
    case 'int8':
    case 'int4':
      return Int8Array.from(codes);
    case 'uint8':
    case 'uint4':
      return Uint8Array.from(codes);
    case 'int16':
      return Int16Array.from(codes);
    case 'uint16':
      return Uint16Array.from(codes);
  }
}
