/** Loading and saving ONNX models on disk (Node). */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { QuantkitError } from '../errors.js';
import { type ByteSource, MemorySource } from '../onnx/byte-source.js';
import { decodeModel } from '../onnx/decode.js';
import { type ExternalDataOptions, encodeModel, PROTOBUF_LIMIT } from '../onnx/encode.js';
import type { Model } from '../onnx/model.js';
import { writeFilesAtomically } from './atomic-write.js';
import { FileSource } from './file-source.js';

/** Files up to this size are read whole (one read, tensors are views); larger ones are read on demand. */
const READ_WHOLE_LIMIT = 64 << 20;

export interface LoadOptions {
  /** Folder external-data locations are relative to; defaults to the model file's folder. */
  baseDir?: string;
  /**
   * Read weights from the file only when used, instead of reading the file whole. The default for
   * files over 64 MB; it keeps memory flat for models larger than RAM.
   */
  lazy?: boolean;
}

/**
 * Loads an ONNX model from a path or from its bytes. Weights are not decoded, and in large files not
 * even read, until used. Call `model.dispose()` when done to close the files it reads from.
 */
export function loadModel(pathOrBytes: string | Uint8Array, opts: LoadOptions = {}): Model {
  if (typeof pathOrBytes !== 'string') {
    const name = '<model bytes>';
    return decodeModel(new MemorySource(pathOrBytes, name), {
      name,
      openExternal: opts.baseDir ? externalOpener(opts.baseDir, name) : undefined,
    });
  }
  const path = pathOrBytes;
  if (!existsSync(path)) throw new QuantkitError(`${path}: no such file`);
  const st = statSync(path);
  if (st.isDirectory()) throw new QuantkitError(`${path}: is a folder, expected an .onnx file`);
  if (st.size === 0) throw new QuantkitError(`${path}: the file is empty`);
  const lazy = opts.lazy ?? st.size > READ_WHOLE_LIMIT;
  const src: ByteSource = lazy ? new FileSource(path) : new MemorySource(readFileSync(path), path);
  return decodeModel(src, { name: path, openExternal: externalOpener(opts.baseDir ?? dirname(path), path) });
}

/** Opens external-data files, refusing any that resolve (through symbolic links too) outside `dir`. */
function externalOpener(dir: string, model: string): (location: string) => ByteSource {
  const root = realpathSync(dir);
  return (location) => {
    const full = join(root, location);
    if (!existsSync(full)) {
      throw new QuantkitError(
        `${model}: external data file '${location}' is missing (expected at ${full}). ` +
          'Copy it next to the model; ONNX models with external data are a set of files.',
      );
    }
    const real = realpathSync(full);
    const rel = relative(root, real);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || resolve(root, rel) !== real) {
      throw new QuantkitError(
        `${model}: external data file '${location}' resolves outside the model's folder; refusing to read it`,
      );
    }
    return new FileSource(real);
  };
}

export interface SaveOptions {
  /**
   * Store weights in a side file. `true` uses '<model file name>_data' (the name transformers.js
   * looks for); an object sets the name, the size threshold and the alignment. Without this option,
   * external data is still used when the model would exceed protobuf's 2 GB limit.
   */
  externalData?: boolean | Partial<ExternalDataOptions>;
}

export interface SaveResult {
  path: string;
  bytes: number;
  externalData?: { path: string; bytes: number };
}

/** Saves atomically (temporary files renamed into place), streaming weights from their sources. */
export function saveModel(model: Model, path: string, opts: SaveOptions = {}): SaveResult {
  const defaultLocation = `${basename(path)}_data`;
  const ext = (o: SaveOptions['externalData']): ExternalDataOptions | undefined =>
    o ? { location: defaultLocation, ...(typeof o === 'object' ? o : {}) } : undefined;
  let encoded = encodeModel(model, { externalData: ext(opts.externalData) });
  if (encoded.bytes > PROTOBUF_LIMIT && !opts.externalData) {
    encoded = encodeModel(model, { externalData: ext(true) });
  }
  if (encoded.bytes > PROTOBUF_LIMIT) {
    throw new QuantkitError(
      `${path}: the model structure alone is ${encoded.bytes} bytes, over protobuf's 2 GB limit even with ` +
        'weights in external data (large tensors may be held in Constant nodes or subgraphs).',
    );
  }
  const files = [{ path, pieces: encoded.pieces }];
  let externalData: SaveResult['externalData'];
  if (encoded.external && encoded.external.bytes > 0) {
    const dataPath = join(dirname(path), encoded.external.location);
    files.push({ path: dataPath, pieces: encoded.external.pieces });
    externalData = { path: dataPath, bytes: encoded.external.bytes };
  }
  writeFilesAtomically(files);
  return { path, bytes: encoded.bytes, externalData };
}
