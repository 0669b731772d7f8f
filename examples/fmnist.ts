/**
 * The bundled Fashion-MNIST images (examples/data, made by scripts/examples): uint8 pixels stored
 * compactly, turned into the float32 [N, 1, 28, 28] inputs (x / 255) the bundled models take.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpz } from '../src/tensor/npz.js';
import type { NdArray } from '../src/tensor/ndarray.js';

export const EXAMPLES = import.meta.dirname;
export const MODELS = join(EXAMPLES, 'models');

export interface Split {
  x: NdArray;
  labels: Int32Array;
}

/** `flat`: [N, 784] inputs for the MLP instead of [N, 1, 28, 28]. */
export function fashionMnist(split: 'calib' | 'test', flat = false): Split {
  const npz = parseNpz(readFileSync(join(EXAMPLES, 'data', `fmnist-${split}.npz`)));
  const pixels = npz.x.data as Uint8Array;
  const n = npz.x.shape[0];
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i] / 255;
  return {
    x: { dtype: 'float32', shape: flat ? [n, 784] : [n, 1, 28, 28], data: x },
    labels: Int32Array.from(npz.y.data as Uint8Array),
  };
}
