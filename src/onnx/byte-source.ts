/**
 * Random-access bytes behind a model: the model file itself or an external-data file. Tensors keep a
 * (source, offset, length) reference instead of their bytes, so a model can be inspected, edited and
 * saved without ever holding all of its weights in memory. Node file access lives in src/io; the core
 * sees only this interface, so it also runs in a browser over in-memory bytes.
 */
export interface ByteSource {
  /** A name for error messages (a file path, or '<memory>'). */
  readonly name: string;
  readonly size: number;
  /** Bytes [offset, offset + length). May be a view that is only valid while the source is open. */
  read(offset: number, length: number): Uint8Array;
  /** Reads into a caller's buffer; lets bulk copies reuse one buffer instead of allocating per chunk. */
  readInto?(offset: number, target: Uint8Array): void;
  close?(): void;
}

export class MemorySource implements ByteSource {
  readonly size: number;
  private readonly bytes: Uint8Array;
  constructor(
    bytes: Uint8Array,
    readonly name = '<memory>',
  ) {
    // A plain view, so a Node Buffer's slice() (which does not copy) never leaks into tensor code.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    this.size = bytes.length;
  }

  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(
        `${this.name}: read of ${length} bytes at ${offset} is outside its ${this.size} bytes`,
      );
    }
    return this.bytes.subarray(offset, offset + length);
  }
}

/** A byte range of a source: how tensor payloads travel from the input file to the output file. */
export interface SourceRange {
  readonly source: ByteSource;
  readonly offset: number;
  readonly length: number;
}
