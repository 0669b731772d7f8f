/**
 * A constant tensor of the graph (initializer, Constant value, attribute tensor). Its payload stays
 * where it was found — a byte range of the model or external-data file, typed protobuf fields, or
 * bytes in memory — until someone asks for the data, so loading a model decodes no weights.
 */

import { QuantkitError } from '../errors.js';
import { type DType, dtypeInfo, elementArrayFor, storageBytes, type TypedArray } from '../tensor/dtype.js';
import { packSubByte, type SubByteDType, unpackSubByte } from '../tensor/subbyte.js';
import { elementCount } from '../tensor/ndarray.js';
import { float16ArrayToFloat32 } from '../tensor/float16.js';
import { bfloat16ArrayToFloat32 } from '../tensor/bfloat16.js';
import { decodeMiniFloat, type MiniFloatDType } from '../tensor/float8.js';
import type { SourceRange } from './byte-source.js';
import type { StringStringEntryProto, TensorProto } from './gen/onnx_pb.js';

export type TensorPayload =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  /** Raw little-endian bytes not yet read; `location` is set when they live in an external-data file. */
  | { readonly kind: 'range'; readonly range: SourceRange; readonly location?: string }
  /** Values held in TensorProto's typed repeated fields (float_data, int32_data, ...). */
  | { readonly kind: 'typed'; readonly proto: TensorProto }
  | { readonly kind: 'strings'; readonly values: readonly Uint8Array[] };

/** Fields of TensorProto that quantkit does not interpret but must carry through a load/save. */
export interface TensorExtras {
  docString?: string;
  metadataProps?: StringStringEntryProto[];
}

const SUB_BYTE = new Set<DType>(['int4', 'uint4', 'int2', 'uint2', 'float4e2m1']);
/** float4e2m1 codes pack exactly like uint4. */
const packingOf = (dtype: DType): SubByteDType =>
  dtype === 'float4e2m1' ? 'uint4' : (dtype as SubByteDType);
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

export class Tensor {
  constructor(
    readonly name: string,
    readonly dtype: DType,
    readonly dims: readonly number[],
    readonly payload: TensorPayload,
    public extras: TensorExtras = {},
  ) {
    for (const d of dims) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new QuantkitError(
          `tensor '${name}' has an invalid dimension ${d} in shape [${dims.join(', ')}]`,
        );
      }
    }
  }

  /** Number of elements. */
  get size(): number {
    return elementCount(this.dims);
  }

  /** Bytes the payload occupies as raw_data (strings: their total UTF-8 length). */
  get byteLength(): number {
    switch (this.payload.kind) {
      case 'range':
        return this.payload.range.length;
      case 'bytes':
        return this.payload.bytes.length;
      case 'strings':
        return this.payload.values.reduce((n, s) => n + s.length, 0);
      default:
        return storageBytes(this.dtype, this.size);
    }
  }

  /** The external-data file holding the payload, if any. */
  get externalLocation(): string | undefined {
    return this.payload.kind === 'range' ? this.payload.location : undefined;
  }

  /** Raw little-endian storage bytes (sub-byte types packed, as in raw_data). Reads the file if needed. */
  bytes(): Uint8Array {
    const p = this.payload;
    switch (p.kind) {
      case 'bytes':
        return p.bytes;
      case 'range':
        return p.range.source.read(p.range.offset, p.range.length);
      case 'typed':
        return typedFieldsToBytes(this.name, this.dtype, this.size, p.proto);
      case 'strings':
        throw new QuantkitError(`tensor '${this.name}' holds strings, not numbers`);
    }
  }

  /**
   * One array entry per element: float16/bfloat16/float8 as bit patterns, int4/int2 unpacked to one
   * byte each. A view of the payload when alignment allows, so treat it as read-only.
   */
  data(): TypedArray {
    if (this.dtype === 'string') throw new QuantkitError(`tensor '${this.name}' holds strings, not numbers`);
    const raw = this.bytes();
    const n = this.size;
    if (SUB_BYTE.has(this.dtype)) return unpackSubByte(packingOf(this.dtype), raw, n);
    const Ctor = elementArrayFor(this.dtype) as unknown as TypedArrayCtor;
    const count = this.dtype === 'complex64' || this.dtype === 'complex128' ? 2 * n : n;
    const expected = storageBytes(this.dtype, n);
    if (raw.length !== expected) {
      throw new QuantkitError(
        `tensor '${this.name}' has ${raw.length} data bytes, but ${this.dtype}[${this.dims.join(', ')}] needs ${expected}`,
      );
    }
    if (raw.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(raw.buffer, raw.byteOffset, count);
    return new Ctor(copyBytes(raw).buffer, 0, count);
  }

  /**
   * The values as float32, whatever the element type (float16/bfloat16/float8 decoded, integers
   * converted). A copy unless the tensor already is float32.
   */
  toFloat32(): Float32Array {
    const d = this.data();
    switch (this.dtype) {
      case 'float32':
        return d as Float32Array;
      case 'float16':
        return float16ArrayToFloat32(d as Uint16Array);
      case 'bfloat16':
        return bfloat16ArrayToFloat32(d as Uint16Array);
      case 'float8e4m3fn':
      case 'float8e4m3fnuz':
      case 'float8e5m2':
      case 'float8e5m2fnuz':
      case 'float8e8m0':
      case 'float4e2m1':
        return decodeMiniFloat(this.dtype as MiniFloatDType, d as Uint8Array);
      case 'complex64':
      case 'complex128':
        throw new QuantkitError(`tensor '${this.name}' is complex; it has no real float32 form`);
      default: {
        const out = new Float32Array(d.length);
        for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
        return out;
      }
    }
  }

  strings(): string[] {
    if (this.payload.kind !== 'strings')
      throw new QuantkitError(`tensor '${this.name}' does not hold strings`);
    return this.payload.values.map((s) => utf8.decode(s));
  }

  /** The same data under another name (payloads are immutable, so they are shared). */
  renamed(name: string): Tensor {
    return new Tensor(name, this.dtype, this.dims, this.payload, { ...this.extras });
  }

  static fromBytes(name: string, dtype: DType, dims: readonly number[], bytes: Uint8Array): Tensor {
    const t = new Tensor(name, dtype, dims, { kind: 'bytes', bytes });
    const expected = storageBytes(dtype, t.size);
    if (bytes.length !== expected) {
      throw new QuantkitError(
        `tensor '${name}': ${bytes.length} bytes given, ${dtype}[${dims.join(', ')}] needs ${expected}`,
      );
    }
    return t;
  }

  /** From one array entry per element, in the form `data()` returns (sub-byte types get packed). */
  static fromArray(name: string, dtype: DType, dims: readonly number[], data: TypedArray): Tensor {
    const n = elementCount(dims);
    const perElement = dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
    if (data.length !== n * perElement) {
      throw new QuantkitError(`tensor '${name}': ${data.length} values given for shape [${dims.join(', ')}]`);
    }
    if (SUB_BYTE.has(dtype)) {
      return Tensor.fromBytes(
        name,
        dtype,
        dims,
        packSubByte(packingOf(dtype), data as Int8Array | Uint8Array),
      );
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return Tensor.fromBytes(name, dtype, dims, bytes);
  }

  static fromStrings(name: string, dims: readonly number[], values: readonly string[]): Tensor {
    if (values.length !== elementCount(dims)) {
      throw new QuantkitError(
        `tensor '${name}': ${values.length} strings given for shape [${dims.join(', ')}]`,
      );
    }
    return new Tensor(name, 'string', dims, {
      kind: 'strings',
      values: values.map((s) => utf8Encoder.encode(s)),
    });
  }
}

/** A copy in a fresh, aligned buffer (not Buffer.slice, which would be a view). */
function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** ONNX's typed fields to raw_data bytes, checking the element count against the shape. */
function typedFieldsToBytes(name: string, dtype: DType, n: number, p: TensorProto): Uint8Array {
  const bits = dtypeInfo(dtype).bits;
  const mismatch = (field: string, got: number, want: number) =>
    new QuantkitError(`tensor '${name}' (${dtype}) has ${got} values in ${field}, its shape needs ${want}`);
  const asBytes = (a: TypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (dtype) {
    case 'float32':
    case 'complex64': {
      const want = dtype === 'complex64' ? 2 * n : n;
      if (p.floatData.length !== want) throw mismatch('float_data', p.floatData.length, want);
      return asBytes(Float32Array.from(p.floatData));
    }
    case 'float64':
    case 'complex128': {
      const want = dtype === 'complex128' ? 2 * n : n;
      if (p.doubleData.length !== want) throw mismatch('double_data', p.doubleData.length, want);
      return asBytes(Float64Array.from(p.doubleData));
    }
    case 'int64':
      if (p.int64Data.length !== n) throw mismatch('int64_data', p.int64Data.length, n);
      return asBytes(BigInt64Array.from(p.int64Data, (v) => BigInt(v)));
    case 'uint64':
      if (p.uint64Data.length !== n) throw mismatch('uint64_data', p.uint64Data.length, n);
      return asBytes(BigUint64Array.from(p.uint64Data, (v) => BigInt(v)));
    case 'uint32':
      if (p.uint64Data.length !== n) throw mismatch('uint64_data', p.uint64Data.length, n);
      return asBytes(Uint32Array.from(p.uint64Data, (v) => Number(v)));
    case 'string':
      throw new QuantkitError(`tensor '${name}' holds strings, not numbers`);
    default: {
      // int32_data: one element per entry for 8-bit and wider types; 4/2-bit types are already packed
      // into one byte per entry.
      const want = bits >= 8 ? n : storageBytes(dtype, n);
      if (p.int32Data.length !== want) throw mismatch('int32_data', p.int32Data.length, want);
      switch (bits) {
        case 32:
          return asBytes(Int32Array.from(p.int32Data));
        case 16:
          return asBytes(Uint16Array.from(p.int32Data));
        default:
          return Uint8Array.from(p.int32Data);
      }
    }
  }
}
