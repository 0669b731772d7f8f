/**
 * The full Fashion-MNIST training split from Debian's dataset-fashion-mnist package (gzip'd idx files
 * in /usr/share/datasets/fashion-mnist), minus the 1000 images bundled as calibration data — the split
 * the dev-time PyTorch script trained the bundled models on. The calibration images are recognised by
 * content, since their indices came from numpy's RNG.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fashionMnist, type Split } from '../examples/fmnist.js';

export const DATASET_DIR = '/usr/share/datasets/fashion-mnist';

/** An idx file: magic 0x0000_08_<rank>, <rank> big-endian uint32 dimensions, then uint8 data. */
function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  const raw = gunzipSync(readFileSync(path));
  if (raw[0] !== 0 || raw[1] !== 0 || raw[2] !== 8) throw new Error(`${path}: not a uint8 idx file`);
  const rank = raw[3];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: raw.subarray(4 + 4 * rank) };
}

export function hasFullDataset(): boolean {
  return existsSync(join(DATASET_DIR, 'train-images-idx3-ubyte.gz'));
}

/** The official 10k test split. */
export function fashionMnistTestSet(): Split {
  return fromIdx('t10k', () => true);
}

export function fashionMnistTrainSet(): Split {
  const pixels = 28 * 28;
  const calib = fashionMnist('calib');
  const key = (px: Uint8Array) => Buffer.from(px.buffer, px.byteOffset, px.byteLength).toString('base64');
  const held = new Set<string>();
  const c = calib.x.data as Float32Array;
  for (let i = 0; i < calib.labels.length; i++) {
    held.add(key(Uint8Array.from(c.subarray(i * pixels, (i + 1) * pixels), (v) => Math.round(v * 255))));
  }
  return fromIdx('train', (image) => !held.has(key(image)));
}

function fromIdx(split: 'train' | 't10k', keepImage: (pixels: Uint8Array) => boolean): Split {
  const images = readIdx(join(DATASET_DIR, `${split}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(DATASET_DIR, `${split}-labels-idx1-ubyte.gz`));
  const pixels = 28 * 28;
  const keep: number[] = [];
  for (let i = 0; i < images.dims[0]; i++) {
    if (keepImage(images.data.subarray(i * pixels, (i + 1) * pixels))) keep.push(i);
  }
  const x = new Float32Array(keep.length * pixels);
  const y = new Int32Array(keep.length);
  keep.forEach((src, i) => {
    for (let p = 0; p < pixels; p++) x[i * pixels + p] = images.data[src * pixels + p] / 255;
    y[i] = labels.data[src];
  });
  return { x: { dtype: 'float32', shape: [keep.length, 1, 28, 28], data: x }, labels: y };
}
