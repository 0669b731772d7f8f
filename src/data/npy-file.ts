/**
 * .npy/.npz files on disk. Errors name the file; writes go to a temporary file in the same directory
 * and are renamed into place, so a crash never leaves a half-written file under the final name.
 */

import { readFile } from 'node:fs/promises';
import { isQuantkitError, QuantkitError } from '../errors.js';
import { writeFilesAtomically } from '../io/atomic-write.js';
import type { NdArray } from '../tensor/ndarray.js';
import { npyHeaderBytes, parseNpy } from '../tensor/npy.js';
import { type NpzWriteOptions, parseNpz, serializeNpz } from '../tensor/npz.js';
import { describeFsError } from './fs-errors.js';

export async function readNpy(path: string): Promise<NdArray> {
  return parseFile(path, parseNpy);
}

export async function readNpz(path: string): Promise<Record<string, NdArray>> {
  return parseFile(path, parseNpz);
}

export async function writeNpy(path: string, arr: NdArray): Promise<void> {
  const header = npyHeaderBytes(arr.dtype, arr.shape);
  // Header and data are written separately so a large array is never copied into one buffer.
  const data = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  await writeAtomically(path, [header, data]);
}

export async function writeNpz(
  path: string,
  arrays: Record<string, NdArray>,
  options?: NpzWriteOptions,
): Promise<void> {
  await writeAtomically(path, [serializeNpz(arrays, options)]);
}

async function parseFile<T>(path: string, parse: (bytes: Uint8Array) => T): Promise<T> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new QuantkitError(`cannot read ${path}: ${describeFsError(e)}`);
  }
  try {
    return parse(bytes);
  } catch (e) {
    if (isQuantkitError(e)) throw new QuantkitError(`${path}: ${e.message}`);
    throw e;
  }
}

async function writeAtomically(path: string, pieces: readonly Uint8Array[]): Promise<void> {
  try {
    writeFilesAtomically([{ path, pieces }]);
  } catch (e) {
    throw new QuantkitError(`cannot write ${path}: ${describeFsError(e)}`);
  }
}
