/**
 * numpy's .npz archives: a zip of .npy files (stored or deflated), entry `x.npy` holding array `x`.
 */

import { unzipSync, type Zippable, zipSync } from 'fflate';
import { isQuantkitError, QuantkitError } from '../errors.js';
import type { NdArray } from './ndarray.js';
import { parseNpy, serializeNpy } from './npy.js';

export interface NpzWriteOptions {
  /** Deflate the entries, as numpy's savez_compressed does (default: stored, as savez does). */
  compress?: boolean;
}

// A fixed timestamp keeps archives byte-identical from run to run.
const MTIME = new Date(1980, 0, 1);

export function parseNpz(bytes: Uint8Array): Record<string, NdArray> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new QuantkitError(`not a readable .npz (zip) archive: ${(e as Error).message}`);
  }
  const out: Array<[string, NdArray]> = [];
  for (const [name, data] of Object.entries(entries)) {
    if (name.endsWith('/')) continue; // directory entries carry no data
    if (!name.endsWith('.npy')) throw new QuantkitError(`.npz entry '${name}' is not a .npy file`);
    try {
      out.push([name.slice(0, -4), parseNpy(data)]);
    } catch (e) {
      if (isQuantkitError(e)) throw new QuantkitError(`.npz entry '${name}': ${e.message}`);
      throw e;
    }
  }
  // fromEntries defines own properties, so an entry named '__proto__.npy' cannot touch the prototype.
  return Object.fromEntries(out);
}

export function serializeNpz(arrays: Record<string, NdArray>, options: NpzWriteOptions = {}): Uint8Array {
  const files: Zippable = {};
  for (const [key, arr] of Object.entries(arrays)) files[`${key}.npy`] = serializeNpy(arr);
  return zipSync(files, { level: options.compress ? 6 : 0, mtime: MTIME });
}
