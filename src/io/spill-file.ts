/**
 * A scratch file that tensors are appended to as a pass makes them and read back from when the model
 * is saved (a TensorSink and the ByteSource behind the tensors it returns). Quantizing a model whose
 * weights do not fit in memory then holds one layer at a time: each quantized weight leaves memory as
 * soon as it is made. The file sits beside the output (the system temporary folder may be in memory)
 * and is unlinked as soon as it is opened where the OS allows it, so a crash leaves nothing behind.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { ByteSource } from '../onnx/byte-source.js';
import type { Model } from '../onnx/model.js';
import type { TensorSink } from '../onnx/tensor-sink.js';
import { Tensor } from '../onnx/tensor.js';
import { temporaryPathFor } from './atomic-write.js';

/** Models with more initializer bytes than this spill: the size above which loadModel reads lazily. */
const SPILL_OVER = 64 << 20;

/** A spill file beside `output` when `model` is large enough for one to matter, else undefined. */
export function spillFileFor(model: Model, output: string): SpillFile | undefined {
  let bytes = 0;
  for (const g of model.graph.graphs()) for (const t of g.initializers.values()) bytes += t.byteLength;
  return bytes > SPILL_OVER ? new SpillFile(output) : undefined;
}

export class SpillFile implements TensorSink, ByteSource {
  readonly name: string;
  private fd: number | undefined;
  private end = 0;
  private unlinked: boolean;

  /** A new scratch file in the folder of `nextTo` (the output the tensors are written to in the end). */
  constructor(nextTo: string) {
    this.name = temporaryPathFor(`${nextTo}.weights`);
    this.fd = openSync(this.name, 'wx+');
    this.unlinked = tryRemove(this.name);
  }

  get size(): number {
    return this.end;
  }

  store(tensor: Tensor): Tensor {
    if (tensor.payload.kind === 'strings') return tensor;
    const bytes = tensor.bytes();
    const offset = this.end;
    for (let done = 0; done < bytes.length;) {
      done += writeSync(this.open(), bytes, done, bytes.length - done, offset + done);
    }
    this.end += bytes.length;
    const range = { source: this, offset, length: bytes.length };
    return new Tensor(tensor.name, tensor.dtype, tensor.dims, { kind: 'range', range }, tensor.extras);
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(offset, out);
    return out;
  }

  readInto(offset: number, target: Uint8Array): void {
    if (offset < 0 || offset + target.length > this.end) {
      throw new RangeError(
        `${this.name}: read of ${target.length} bytes at ${offset} is outside its ${this.end} bytes`,
      );
    }
    for (let done = 0; done < target.length;) {
      const n = readSync(this.open(), target, done, target.length - done, offset + done);
      if (n === 0) throw new Error(`${this.name}: scratch file shrank while being read`);
      done += n;
    }
  }

  /** Closes and removes the file; tensors stored in it can no longer be read. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (!this.unlinked) this.unlinked = tryRemove(this.name);
  }

  private open(): number {
    if (this.fd === undefined) throw new Error(`${this.name} was closed; its tensors can no longer be read`);
    return this.fd;
  }
}

/** Removes the file; false where an open file cannot be removed (Windows), to retry once closed. */
function tryRemove(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}
