/**
 * Walks the protobuf wire format of a message in a ByteSource, yielding where each field lies without
 * reading its payload. The model loader uses it to skip over tensor raw_data (the bulk of a model)
 * and hand only the small remaining bytes to the protobuf library.
 */
import { QuantkitError } from '../errors.js';
import type { ByteSource } from './byte-source.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export interface FieldSpan {
  readonly no: number;
  readonly wire: number;
  /** Offset of the field's tag. */
  readonly start: number;
  /** Offset of the payload (after the length prefix for length-delimited fields). */
  readonly dataStart: number;
  /** Offset one past the payload. */
  readonly end: number;
}

const WINDOW = 1 << 16;

/** Buffered reads of field headers, so a file-backed source costs one read per 64 KB of headers. */
class Window {
  private buf: Uint8Array = new Uint8Array(0);
  private base = 0;
  constructor(private readonly src: ByteSource) {}

  bytesAt(pos: number, want: number): Uint8Array {
    const n = Math.min(want, this.src.size - pos);
    if (pos < this.base || pos + n > this.base + this.buf.length) {
      this.base = pos;
      this.buf = this.src.read(pos, Math.min(Math.max(WINDOW, n), this.src.size - pos));
    }
    return this.buf.subarray(pos - this.base, pos - this.base + n);
  }
}

export function corrupt(src: ByteSource, what: string, pos: number, reason: string): QuantkitError {
  return new QuantkitError(
    `${src.name}: not a valid ONNX model: ${reason} in ${what} at byte ${pos}. ` +
      'The file may be truncated or not an ONNX file; re-export or re-download it.',
  );
}

function readVarint(bytes: Uint8Array, fail: () => Error): [value: number, size: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < bytes.length && i < 10; i++) {
    const b = bytes[i];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (value > Number.MAX_SAFE_INTEGER) throw fail();
      return [value, i + 1];
    }
    scale *= 128;
  }
  throw fail();
}

/** Fields of the message occupying [start, end) of `src`. `what` names the message for errors. */
export function* scanFields(src: ByteSource, start: number, end: number, what: string): Generator<FieldSpan> {
  const win = new Window(src);
  let pos = start;
  while (pos < end) {
    const fail = (reason: string) => () => corrupt(src, what, pos, reason);
    const head = win.bytesAt(pos, 20);
    const [tag, tagSize] = readVarint(head, fail('bad field tag'));
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if (no === 0) throw fail('field number 0')();
    let dataStart = pos + tagSize;
    let fieldEnd: number;
    switch (wire) {
      case WIRE_VARINT: {
        const [, size] = readVarint(head.subarray(tagSize), fail('bad varint'));
        fieldEnd = dataStart + size;
        break;
      }
      case WIRE_FIXED64:
        fieldEnd = dataStart + 8;
        break;
      case WIRE_FIXED32:
        fieldEnd = dataStart + 4;
        break;
      case WIRE_LEN: {
        const [len, size] = readVarint(head.subarray(tagSize), fail('bad length prefix'));
        dataStart += size;
        fieldEnd = dataStart + len;
        break;
      }
      default:
        throw fail(`unsupported wire type ${wire} for field ${no}`)();
    }
    if (fieldEnd > end) throw fail(`field ${no} runs ${fieldEnd - end} bytes past the end`)();
    yield { no, wire, start: pos, dataStart, end: fieldEnd };
    pos = fieldEnd;
  }
}

/** Concatenates the raw bytes (tags included) of several fields, to decode them as one message. */
export function gatherFields(src: ByteSource, spans: readonly FieldSpan[]): Uint8Array {
  if (spans.length === 0) return new Uint8Array(0);
  // Adjacent spans are read as one range: the common case is one long run of small fields.
  const runs: [number, number][] = [];
  for (const s of spans) {
    const last = runs[runs.length - 1];
    if (last && last[1] === s.start) last[1] = s.end;
    else runs.push([s.start, s.end]);
  }
  if (runs.length === 1) return src.read(runs[0][0], runs[0][1] - runs[0][0]);
  const total = runs.reduce((n, [a, b]) => n + b - a, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const [a, b] of runs) {
    out.set(src.read(a, b - a), at);
    at += b - a;
  }
  return out;
}
