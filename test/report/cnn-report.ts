/** The bundled CNN quantized through the CLI with --report, as the report tests need it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fashionMnist, MODELS } from '../../examples/fmnist.js';
import { writeNpy } from '../../src/data/npy-file.js';
import { sliceAxis0 } from '../../src/tensor/ndarray.js';
import { runCli } from '../helpers/cli.js';

export const CNN = join(MODELS, 'fmnist_cnn.onnx');

/** Runs `quantkit quantize CNN --calib-data … --report [flags]` in `dir`; returns the HTML and the paths. */
export async function quantizeWithReport(
  dir: string,
  flags: readonly string[] = [],
): Promise<{ html: string; path: string; model: string }> {
  const calib = join(dir, 'calib.npy');
  await writeNpy(calib, sliceAxis0(fashionMnist('calib').x, 0, 32));
  const model = join(dir, 'cnn.int8.onnx');
  const path = join(dir, 'report.html');
  const r = runCli([
    'quantize',
    CNN,
    '-o',
    model,
    '--calib-data',
    calib,
    '--report',
    path,
    '--quiet',
    ...flags,
  ]);
  assert.equal(r.status, 0, r.stderr);
  return { html: readFileSync(path, 'utf8'), path, model };
}
