/** Types and shapes of graph values (ValueInfoProto), in quantkit's terms. */
import { create } from '@bufbuild/protobuf';
import { type DType, dtypeFromOnnx, onnxDataType } from '../tensor/dtype.js';
import {
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  type TypeProto,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from './gen/onnx_pb.js';

/** A dimension: a fixed size, a symbolic name (dim_param), or unknown. */
export type Dim = number | string | null;

export interface TensorType {
  /** undefined when the value is not a tensor (sequence, map, optional) or its element type is unknown. */
  dtype: DType | undefined;
  /** undefined when the rank is unknown. */
  shape: Dim[] | undefined;
}

export function tensorTypeOf(type: TypeProto | undefined): TensorType {
  if (type?.value.case !== 'tensorType') return { dtype: undefined, shape: undefined };
  const t = type.value.value;
  const shape = t.shape?.dim.map((d): Dim => {
    if (d.value.case === 'dimValue') return Number(d.value.value);
    if (d.value.case === 'dimParam') return d.value.value;
    return null;
  });
  return { dtype: dtypeFromOnnx(t.elemType), shape };
}

export function makeTensorType(dtype: DType, shape?: readonly Dim[]): TypeProto {
  const tensor = create(TypeProto_TensorSchema, {
    elemType: onnxDataType(dtype),
    shape:
      shape === undefined
        ? undefined
        : create(TensorShapeProtoSchema, {
            dim: shape.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value:
                  typeof d === 'number'
                    ? { case: 'dimValue', value: BigInt(d) }
                    : typeof d === 'string'
                      ? { case: 'dimParam', value: d }
                      : { case: undefined },
              }),
            ),
          }),
  });
  return create(TypeProtoSchema, { value: { case: 'tensorType', value: tensor } });
}

export function makeValueInfo(name: string, dtype?: DType, shape?: readonly Dim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: dtype === undefined ? undefined : makeTensorType(dtype, shape),
  });
}

export function formatShape(shape: readonly Dim[] | undefined): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}
