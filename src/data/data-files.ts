/**
 * Which files a data path stands for: one file, or the files of a folder and of its immediate
 * sub-folders (one per class, as image data sets are often laid out), in code-unit order of their
 * names so every run reads samples in the same order whatever the locale. Hidden files are ignored;
 * other unreadable kinds are left out and reported, and a folder must hold one kind of data.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { QuantkitError } from '../errors.js';
import { describeFsError } from './fs-errors.js';

export type DataKind = 'arrays' | 'images';

export interface DataFiles {
  kind: DataKind;
  /** In reading order. */
  files: string[];
  /** False when the path is a single file. */
  folder: boolean;
  /** Files and nested folders found and left out. */
  skipped: string[];
}

const KINDS: Record<string, DataKind> = {
  '.npy': 'arrays',
  '.npz': 'arrays',
  '.png': 'images',
  '.jpg': 'images',
  '.jpeg': 'images',
};

export function kindOf(path: string): DataKind | undefined {
  return KINDS[extname(path).toLowerCase()];
}

export async function listDataFiles(path: string, label: string): Promise<DataFiles> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (e) {
    throw new QuantkitError(`cannot read ${label} '${path}': ${describeFsError(e)}`);
  }
  if (!isFolder) {
    const kind = kindOf(path);
    if (!kind) {
      throw new QuantkitError(
        `${label} '${path}' is not a .npy or .npz file, a PNG/JPEG image, or a folder of them`,
      );
    }
    return { kind, files: [path], folder: false, skipped: [] };
  }
  const found: Record<DataKind, string[]> = { arrays: [], images: [] };
  const skipped: string[] = [];
  for (const entry of await entries(path, label)) {
    const full = join(path, entry.name);
    if (await isDirectory(entry, full)) {
      for (const inner of await entries(full, label)) {
        const innerPath = join(full, inner.name);
        if (await isDirectory(inner, innerPath)) skipped.push(`${innerPath}/`);
        else sortInto(innerPath, found, skipped);
      }
    } else {
      sortInto(full, found, skipped);
    }
  }
  if (found.arrays.length > 0 && found.images.length > 0) {
    throw new QuantkitError(
      `${label} folder '${path}' mixes arrays ('${found.arrays[0]}') and images ('${found.images[0]}'); ` +
        'keep one kind per folder',
    );
  }
  const kind: DataKind = found.images.length > 0 ? 'images' : 'arrays';
  if (found[kind].length === 0) {
    const others = skipped.length > 0 ? `; it has ${skipped.length} other entries, e.g. '${skipped[0]}'` : '';
    throw new QuantkitError(`${label} folder '${path}' holds no .npy/.npz files or PNG/JPEG images${others}`);
  }
  return { kind, files: found[kind], folder: true, skipped };
}

async function entries(dir: string, label: string): Promise<Dirent[]> {
  let list: Dirent[];
  try {
    list = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new QuantkitError(`cannot read ${label} folder '${dir}': ${describeFsError(e)}`);
  }
  return list
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function isDirectory(entry: Dirent, path: string): Promise<boolean> {
  if (!entry.isSymbolicLink()) return entry.isDirectory();
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // a dangling link: treated as a file, so reading it reports the problem
  }
}

function sortInto(path: string, found: Record<DataKind, string[]>, skipped: string[]): void {
  const kind = kindOf(path);
  if (kind) found[kind].push(path);
  else skipped.push(path);
}
