/** Shared by the sample-source tests: fixture model inputs, images written to disk, batch collection. */
import { writeFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { type ModelInput, requiredInputs } from '../../src/data/model-inputs.js';
import type { SampleSource } from '../../src/data/sample-source.js';
import { loadModel } from '../../src/io/model-file.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { modelPath } from '../helpers/fixtures.js';

export function modelInputs(name: string): ModelInput[] {
  const model = loadModel(modelPath(name));
  try {
    return requiredInputs(model.graph);
  } finally {
    model.dispose();
  }
}

export async function collect(
  source: SampleSource,
  batchSize: number,
): Promise<Array<Record<string, NdArray>>> {
  const out: Array<Record<string, NdArray>> = [];
  for await (const batch of source.batches(batchSize)) out.push(batch);
  return out;
}

export type Rgb = (x: number, y: number) => [number, number, number];

export function writePng(path: string, width: number, height: number, rgb: Rgb, alpha = 255): void {
  const png = new PNG({ width, height });
  fill(png.data, width, height, rgb, alpha);
  writeFileSync(path, PNG.sync.write(png));
}

export function writeJpeg(path: string, width: number, height: number, rgb: Rgb): void {
  const data = new Uint8Array(width * height * 4);
  fill(data, width, height, rgb, 255);
  writeFileSync(path, jpeg.encode({ width, height, data }, 100).data);
}

function fill(data: Uint8Array, width: number, height: number, rgb: Rgb, alpha: number): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const [r, g, b] = rgb(x, y);
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = alpha;
    }
  }
}
