/**
 * Element types of ONNX tensors, named the way onnxruntime-web/-node names them ('float32', 'int8', ...)
 * and mapped to the TensorProto.DataType numbers of onnx.proto.
 */

export type DType =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'float8e8m0'
  | 'uint2'
  | 'int2';

export type DTypeKind = 'float' | 'int' | 'uint' | 'bool' | 'string' | 'complex';

export interface DTypeInfo {
  readonly name: DType;
  /** TensorProto.DataType value. */
  readonly onnx: number;
  /** Storage bits per element in raw_data (0 for strings). */
  readonly bits: number;
  readonly kind: DTypeKind;
}

const TABLE: readonly DTypeInfo[] = [
  { name: 'float32', onnx: 1, bits: 32, kind: 'float' },
  { name: 'uint8', onnx: 2, bits: 8, kind: 'uint' },
  { name: 'int8', onnx: 3, bits: 8, kind: 'int' },
  { name: 'uint16', onnx: 4, bits: 16, kind: 'uint' },
  { name: 'int16', onnx: 5, bits: 16, kind: 'int' },
  { name: 'int32', onnx: 6, bits: 32, kind: 'int' },
  { name: 'int64', onnx: 7, bits: 64, kind: 'int' },
  { name: 'string', onnx: 8, bits: 0, kind: 'string' },
  { name: 'bool', onnx: 9, bits: 8, kind: 'bool' },
  { name: 'float16', onnx: 10, bits: 16, kind: 'float' },
  { name: 'float64', onnx: 11, bits: 64, kind: 'float' },
  { name: 'uint32', onnx: 12, bits: 32, kind: 'uint' },
  { name: 'uint64', onnx: 13, bits: 64, kind: 'uint' },
  { name: 'complex64', onnx: 14, bits: 64, kind: 'complex' },
  { name: 'complex128', onnx: 15, bits: 128, kind: 'complex' },
  { name: 'bfloat16', onnx: 16, bits: 16, kind: 'float' },
  { name: 'float8e4m3fn', onnx: 17, bits: 8, kind: 'float' },
  { name: 'float8e4m3fnuz', onnx: 18, bits: 8, kind: 'float' },
  { name: 'float8e5m2', onnx: 19, bits: 8, kind: 'float' },
  { name: 'float8e5m2fnuz', onnx: 20, bits: 8, kind: 'float' },
  { name: 'uint4', onnx: 21, bits: 4, kind: 'uint' },
  { name: 'int4', onnx: 22, bits: 4, kind: 'int' },
  { name: 'float4e2m1', onnx: 23, bits: 4, kind: 'float' },
  { name: 'float8e8m0', onnx: 24, bits: 8, kind: 'float' },
  { name: 'uint2', onnx: 25, bits: 2, kind: 'uint' },
  { name: 'int2', onnx: 26, bits: 2, kind: 'int' },
];

const BY_NAME = new Map<string, DTypeInfo>(TABLE.map((t) => [t.name, t]));
const BY_ONNX = new Map<number, DTypeInfo>(TABLE.map((t) => [t.onnx, t]));

export function isDType(name: string): name is DType {
  return BY_NAME.has(name);
}

export function dtypeInfo(dtype: DType): DTypeInfo {
  const info = BY_NAME.get(dtype);
  if (!info) throw new Error(`unknown dtype '${dtype}'`);
  return info;
}

/** Maps a TensorProto.DataType number to its dtype, or undefined when ONNX defines no such type. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return BY_ONNX.get(code)?.name;
}

export function onnxDataType(dtype: DType): number {
  return dtypeInfo(dtype).onnx;
}

/** Bytes needed to store `count` elements packed as in raw_data (sub-byte types round up). */
export function storageBytes(dtype: DType, count: number): number {
  return Math.ceil((count * dtypeInfo(dtype).bits) / 8);
}

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * The typed array that holds one element per entry for a dtype. float16/bfloat16 hold raw bit patterns
 * (Node 20 has no Float16Array), 4- and 2-bit integers are unpacked to one element per byte, and float8
 * types hold their bit patterns.
 */
export function elementArrayFor(dtype: DType): new (length: number) => TypedArray {
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return Float32Array;
    case 'float64':
    case 'complex128':
      return Float64Array;
    case 'int8':
    case 'int4':
    case 'int2':
      return Int8Array;
    case 'uint8':
    case 'uint4':
    case 'uint2':
    case 'bool':
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float8e8m0':
    case 'float4e2m1':
      return Uint8Array;
    case 'int16':
      return Int16Array;
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return Uint16Array;
    case 'int32':
      return Int32Array;
    case 'uint32':
      return Uint32Array;
    case 'int64':
      return BigInt64Array;
    case 'uint64':
      return BigUint64Array;
    case 'string':
      throw new Error('string tensors have no typed-array form');
  }
}
