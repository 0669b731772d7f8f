/**
 * Batches cut from data read one piece (a file) at a time. A batch that lies within one piece is a
 * view of it; one that straddles pieces is copied into a fresh array as it fills, so no more than the
 * current piece and the batch being built stay in memory. The iterator keeps its state in fields
 * rather than in a generator's locals: a suspended generator may keep stale locals (an earlier file)
 * reachable, and holding at most one file is the point.
 */
import { QuantkitError } from '../errors.js';
import { elementArrayFor } from '../tensor/dtype.js';
import { elementCount, type NdArray, sliceAxis0 } from '../tensor/ndarray.js';

export interface Pieces {
  count: number;
  /** Arrays with samples along axis 0, all with as many rows; trailing shapes equal across pieces. */
  load(index: number): Promise<Record<string, NdArray>>;
}

type Batch = Record<string, NdArray>;

/**
 * Yields `total` samples in batches of `batchSize` (the last one smaller), each batch also carrying
 * `constants` (inputs every batch receives whole).
 */
export class BatchStream implements AsyncIterableIterator<Batch> {
  private nextPiece = 0;
  private piece: Batch | undefined;
  private rows = 0;
  private pos = 0;
  private emitted = 0;
  private building: Batch | undefined;
  private filled = 0;

  constructor(
    private readonly pieces: Pieces,
    private readonly constants: Batch,
    private readonly total: number,
    private readonly batchSize: number,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<Batch> {
    return this;
  }

  async next(): Promise<IteratorResult<Batch>> {
    if (this.emitted >= this.total) {
      this.piece = undefined;
      return { done: true, value: undefined };
    }
    const size = Math.min(this.batchSize, this.total - this.emitted);
    for (;;) {
      if (this.pos === this.rows) await this.advance();
      const piece = this.piece!;
      const available = this.rows - this.pos;
      if (this.filled === 0 && available >= size) {
        const batch: Batch = {};
        for (const name of Object.keys(piece))
          batch[name] = sliceAxis0(piece[name], this.pos, this.pos + size);
        this.pos += size;
        return this.emit(batch, size);
      }
      this.building ??= allocate(piece, size);
      const take = Math.min(size - this.filled, available);
      for (const name of Object.keys(piece))
        copyRows(piece[name], this.pos, take, this.building[name], this.filled);
      this.pos += take;
      this.filled += take;
      if (this.filled === size) {
        const batch = this.building;
        this.building = undefined;
        this.filled = 0;
        return this.emit(batch, size);
      }
    }
  }

  async return(): Promise<IteratorResult<Batch>> {
    this.emitted = this.total;
    this.piece = this.building = undefined;
    return { done: true, value: undefined };
  }

  private async advance(): Promise<void> {
    this.piece = undefined; // let the previous piece go before the next one is read
    if (this.nextPiece >= this.pieces.count) {
      throw new QuantkitError(
        `the data ended after ${this.emitted} of ${this.total} samples; did its files change?`,
      );
    }
    const piece = await this.pieces.load(this.nextPiece++);
    this.piece = piece;
    this.rows = piece[Object.keys(piece)[0]].shape[0];
    this.pos = 0;
  }

  private emit(batch: Batch, size: number): IteratorResult<Batch> {
    this.emitted += size;
    if (this.emitted >= this.total) this.piece = undefined;
    return { done: false, value: { ...batch, ...this.constants } };
  }
}

function allocate(like: Batch, rows: number): Batch {
  const out: Batch = {};
  for (const [name, arr] of Object.entries(like)) {
    const shape = [rows, ...arr.shape.slice(1)];
    out[name] = { dtype: arr.dtype, shape, data: new (elementArrayFor(arr.dtype))(elementCount(shape)) };
  }
  return out;
}

function copyRows(src: NdArray, from: number, rows: number, dst: NdArray, to: number): void {
  const rowSize = elementCount(src.shape.slice(1));
  // Source and destination share a dtype, hence a typed-array type, which set() accepts.
  (dst.data as Float32Array).set(
    src.data.subarray(from * rowSize, (from + rows) * rowSize) as Float32Array,
    to * rowSize,
  );
}
