/**
 * A ByteSource over a file, read with positioned reads. The descriptor stays open until close(), so
 * tensors keep reading the file they were loaded from even if a later save renames a new file over
 * its path (quantizing a model in place must not read back half of its own output).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ByteSource } from '../onnx/byte-source.js';

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly name: string) {
    this.fd = openSync(name, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(offset: number, length: number): Uint8Array {
    if (this.fd === undefined) throw new Error(`${this.name} was closed; its tensors can no longer be read`);
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(
        `${this.name}: read of ${length} bytes at ${offset} is outside its ${this.size} bytes`,
      );
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new Error(`${this.name}: file shrank while being read`);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
