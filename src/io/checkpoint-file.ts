/**
 * Training checkpoints on disk: written to a temporary file, flushed, and renamed over the previous
 * checkpoint, so a run killed at any moment leaves either the old checkpoint or the new one, whole.
 */
import { readFileSync } from 'node:fs';
import { type Checkpoint, parseCheckpoint, serializeCheckpoint } from '../training/checkpoint.js';
import { isQuantkitError, QuantkitError } from '../errors.js';
import { writeFilesAtomically } from './atomic-write.js';

export function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFilesAtomically([{ path, pieces: [serializeCheckpoint(c)] }]);
}

export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new QuantkitError(`cannot read checkpoint '${path}': ${(e as Error).message}`);
  }
  const where = `checkpoint '${path}'`;
  try {
    return parseCheckpoint(bytes, where);
  } catch (e) {
    const message = (e as Error).message;
    if (isQuantkitError(e) && message.startsWith(where)) throw e;
    throw new QuantkitError(`${where} is damaged: ${message}`);
  }
}
