/**
 * numpy's .npy format (versions 1.0, 2.0 and 3.0) from and to bytes.
 * See https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */

import { QuantkitError } from '../errors.js';
import { type DType, elementArrayFor, type TypedArray } from './dtype.js';
import { elementCount, type NdArray } from './ndarray.js';
import { formatNpyHeader, parseNpyHeader } from './npy-header.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy type code (without byte order) <-> dtype, for the types a tensor can hold. */
const CODES: ReadonlyArray<readonly [code: string, dtype: DType, size: number]> = [
  ['f2', 'float16', 2],
  ['f4', 'float32', 4],
  ['f8', 'float64', 8],
  ['i1', 'int8', 1],
  ['u1', 'uint8', 1],
  ['i2', 'int16', 2],
  ['u2', 'uint16', 2],
  ['i4', 'int32', 4],
  ['u4', 'uint32', 4],
  ['i8', 'int64', 8],
  ['u8', 'uint64', 8],
  ['b1', 'bool', 1],
];

/**
 * Reads a .npy file. Little-endian C-order data whose offset suits the element size is returned as a view
 * of `bytes` (no copy); big-endian or Fortran-order data is converted into a new C-order array.
 */
export function parseNpy(bytes: Uint8Array): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new QuantkitError('not a .npy file (missing the \\x93NUMPY magic)');
  }
  const major = bytes[6];
  const minor = bytes[7];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new QuantkitError('truncated .npy header');
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    throw new QuantkitError(`unsupported .npy format version ${major}.${minor}`);
  }
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) {
    throw new QuantkitError(
      `truncated .npy header: ${headerLength} bytes announced, ${bytes.length - headerStart} present`,
    );
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  // Versions 1 and 2 store the header as latin-1, version 3 as UTF-8.
  const text = major === 3 ? new TextDecoder().decode(headerBytes) : latin1(headerBytes);
  const header = parseNpyHeader(text);

  const { dtype, size, bigEndian } = parseDescr(header.descr);
  const count = elementCount(header.shape);
  const byteLength = count * size;
  if (bytes.length - dataStart < byteLength) {
    throw new QuantkitError(
      `truncated .npy data: shape [${header.shape}] of ${dtype} needs ${byteLength} bytes, ${bytes.length - dataStart} present`,
    );
  }
  // Every typed array constructor also takes (buffer, byteOffset, length); elementArrayFor types only one form.
  const Ctor = elementArrayFor(dtype) as unknown as new (
    b: ArrayBufferLike,
    offset: number,
    n: number,
  ) => TypedArray;
  const start = bytes.byteOffset + dataStart;
  const needsConversion = bigEndian || (header.fortranOrder && header.shape.length > 1);
  if (!needsConversion && start % size === 0) {
    return { dtype, shape: header.shape, data: new Ctor(bytes.buffer, start, count) };
  }
  let raw: Uint8Array = bytes.slice(dataStart, dataStart + byteLength);
  if (bigEndian) swapBytes(raw, size);
  if (header.fortranOrder) raw = fortranToC(raw, header.shape, size);
  return { dtype, shape: header.shape, data: new Ctor(raw.buffer, 0, count) };
}

/** The .npy bytes of an array (version 1.0, or 2.0 for headers over 64 KiB). */
export function serializeNpy(arr: NdArray): Uint8Array {
  const header = npyHeaderBytes(arr.dtype, arr.shape);
  const data = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** Magic, version, length and padded header: everything before the data. */
export function npyHeaderBytes(dtype: DType, shape: readonly number[]): Uint8Array {
  const entry = CODES.find(([, d]) => d === dtype);
  if (!entry) throw new QuantkitError(`a ${dtype} tensor cannot be stored in .npy (numpy has no such dtype)`);
  const [code, , size] = entry;
  const text = formatNpyHeader(`${size === 1 ? '|' : '<'}${code}`, shape);
  // numpy pads with spaces and ends with a newline so the data starts on a 64-byte boundary.
  const version = text.length + 1 + 10 <= 0xffff ? 1 : 2;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + text.length + 1) / 64) * 64;
  const out = new Uint8Array(total);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  out.fill(0x20, prefix + text.length, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

function parseDescr(descr: unknown): { dtype: DType; size: number; bigEndian: boolean } {
  if (typeof descr !== 'string') {
    throw new QuantkitError(`structured .npy dtype ${JSON.stringify(descr)} is not supported`);
  }
  const order = descr[0];
  const code = '<>|='.includes(order) ? descr.slice(1) : descr;
  const entry = CODES.find(([c]) => c === code);
  if (!entry) throw new QuantkitError(`unsupported .npy dtype '${descr}' (numeric and bool arrays only)`);
  const [, dtype, size] = entry;
  return { dtype, size, bigEndian: order === '>' && size > 1 };
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function swapBytes(raw: Uint8Array, size: number): void {
  for (let i = 0; i < raw.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = raw[a];
      raw[a] = raw[b];
      raw[b] = t;
    }
  }
}

/** Reorders elements of `size` bytes from column-major to row-major. */
function fortranToC(raw: Uint8Array, shape: readonly number[], size: number): Uint8Array {
  const rank = shape.length;
  const count = elementCount(shape);
  const out = new Uint8Array(raw.length);
  // In Fortran order the first axis varies fastest: element stride of axis k is the product of dims < k.
  const strides = new Array<number>(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    strides[k] = s;
    s *= shape[k];
  }
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < count; i++) {
    for (let b = 0; b < size; b++) out[i * size + b] = raw[src * size + b];
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      src += strides[k];
      if (index[k] < shape[k]) break;
      src -= strides[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}
