/**
 * Writes files so that a failed run leaves nothing half-written: content goes to a temporary file in
 * the destination folder, which is renamed over the destination only once everything is written.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Piece } from '../onnx/encode.js';

const COPY_CHUNK = 16 << 20;

export function temporaryPathFor(path: string): string {
  const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
}

/**
 * Writes pieces to a file; references into other files are copied in bounded chunks. `sync` flushes
 * to disk before returning, which a rename-into-place needs to be crash-safe.
 */
export function writePieces(path: string, pieces: readonly Piece[], opts: { sync: boolean }): void {
  const fd = openSync(path, 'w');
  let buffer: Uint8Array | undefined;
  try {
    for (const p of pieces) {
      if (p instanceof Uint8Array) {
        writeAll(fd, p);
        continue;
      }
      for (let at = 0; at < p.length; at += COPY_CHUNK) {
        const n = Math.min(COPY_CHUNK, p.length - at);
        if (p.source.readInto) {
          buffer ??= new Uint8Array(COPY_CHUNK);
          p.source.readInto(p.offset + at, buffer.subarray(0, n));
          writeAll(fd, buffer.subarray(0, n));
        } else {
          writeAll(fd, p.source.read(p.offset + at, n));
        }
      }
    }
    if (opts.sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Writes several files all-or-nothing: each goes to a temporary file first; only when all are
 * complete are they renamed into place. On failure the temporaries are removed.
 */
export function writeFilesAtomically(files: readonly { path: string; pieces: readonly Piece[] }[]): void {
  const staged: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      const tmp = temporaryPathFor(f.path);
      staged.push({ tmp, path: f.path });
      writePieces(tmp, f.pieces, { sync: true });
    }
    for (const s of staged) renameSync(s.tmp, s.path);
  } catch (e) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    throw e;
  }
}
