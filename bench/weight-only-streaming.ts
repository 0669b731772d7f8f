/**
 * Weight-only quantization of a model larger than the memory it should need (issue 4): a ~1.2 GB
 * synthetic MLP chain (external data, 67 MB layers) quantized to 4-bit MatMulNBits by the CLI in a
 * child process. Reports peak RSS ÷ largest layer and ÷ model size, and the child's start-up peak on a
 * tiny model as the baseline the rest is measured above. Then AWQ and GPTQ, layer by layer, on a
 * smaller chain (their K×K statistics and GPTQ's Cholesky factorisation make K = 8192 slow): the same
 * ratios, with RTN on that chain in the same run as their baseline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../src/data/npy-file.js';
import { saveModel } from '../src/io/model-file.js';
import {
  type ChainSpec,
  chainBytes,
  chainValue,
  layerShape,
  syntheticChain,
} from '../test/helpers/synthetic-chain.js';

const CLI_RSS = join(import.meta.dirname, 'cli-rss-worker.ts');
const MODEL: ChainSpec = { layers: 18, width: 2048, hidden: 8192 };
const TINY: ChainSpec = { layers: 2, width: 64, hidden: 256 };

const CALIBRATED: ChainSpec = { layers: 10, width: 512, hidden: 2048 };
const CALIBRATION_ROWS = 256;

function quantizeInChild(
  input: string,
  output: string,
  extra: readonly string[] = [],
): { peak: number; seconds: number } {
  const start = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI_RSS,
      'quantize',
      input,
      '-o',
      output,
      '--mode',
      'weight-only',
      '--quiet',
      ...extra,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`quantkit quantize failed: ${r.stderr}`);
  return { peak: Number(/PEAK_RSS (\d+)/.exec(r.stderr)![1]), seconds: (performance.now() - start) / 1000 };
}

function saved(dir: string, name: string, spec: ChainSpec): string {
  const path = join(dir, `${name}.onnx`);
  saveModel(syntheticChain(spec), path, { externalData: true });
  return path;
}

/**
 * AWQ and GPTQ through the CLI on CALIBRATED and on its first two layers: what the eight further
 * layers add to the peak shows whether memory grows with the model (it should not: one segment's
 * weights at a time) apart from the fixed cost of the statistics and AWQ's loss sessions.
 */
async function calibrated(dir: string): Promise<void> {
  const small: ChainSpec = { ...CALIBRATED, layers: 2 };
  const inputs = {
    small: saved(dir, 'calibrated-small', small),
    large: saved(dir, 'calibrated', CALIBRATED),
  };
  const calib = join(dir, 'calib.npy');
  const x = new Float32Array(CALIBRATION_ROWS * CALIBRATED.width);
  for (let i = 0; i < x.length; i++) x[i] = chainValue(CALIBRATED.layers + 1, i, 3);
  await writeNpy(calib, { dtype: 'float32', shape: [CALIBRATION_ROWS, CALIBRATED.width], data: x });
  const bytes = chainBytes(CALIBRATED);
  const added = bytes - chainBytes(small);
  const mb = (v: number) => `${(v / 1e6).toFixed(0)} MB`;
  console.log(
    `\n## weight-only-streaming, calibrated: 4-bit g128, a chain of ${CALIBRATED.layers} layers ` +
      `(${mb(bytes)}) against its first 2 (${mb(chainBytes(small))}), ${CALIBRATION_ROWS} calibration rows`,
  );
  console.log('| algorithm | peak, 2 layers | peak, 10 layers | growth ÷ added weights | s per M weights |');
  console.log('|---|---|---|---|---|');
  for (const algorithm of ['rtn', 'awq', 'gptq']) {
    const extra = ['--block-size', '128', '--algorithm', algorithm];
    if (algorithm !== 'rtn') extra.push('--calib-data', calib);
    const [a, b] = (['small', 'large'] as const).map((size) =>
      quantizeInChild(inputs[size], join(dir, `calibrated-${size}.${algorithm}.onnx`), extra),
    );
    console.log(
      `| ${algorithm} | ${mb(a.peak)} | ${mb(b.peak)} | ${((b.peak - a.peak) / added).toFixed(2)} | ` +
        `${((b.seconds * 1e6) / (bytes / 4)).toFixed(2)} |`,
    );
  }
}

export async function benchWeightOnlyStreaming(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-bench-'));
  try {
    const startup = quantizeInChild(saved(dir, 'tiny', TINY), join(dir, 'tiny.q4.onnx')).peak;
    const run = quantizeInChild(saved(dir, 'model', MODEL), join(dir, 'model.q4.onnx'));
    const bytes = chainBytes(MODEL);
    const [k, n] = layerShape(MODEL, 0);
    const layer = k * n * 4;
    const mb = (x: number) => `${(x / 1e6).toFixed(0)} MB`;
    console.log(
      `\n## weight-only-streaming: 4-bit RTN (g32, MatMulNBits) of a ${mb(bytes)} model, ${MODEL.layers} layers of ${mb(layer)}`,
    );
    console.log(
      `peak RSS ${mb(run.peak)} (start-up on a tiny model: ${mb(startup)}); ${run.seconds.toFixed(1)} s, ` +
        `${((run.seconds * 1e6) / (bytes / 4)).toFixed(2)} s per million weights (process start included)`,
    );
    console.log(`peak RSS ÷ largest layer:              ${(run.peak / layer).toFixed(2)}`);
    console.log(`peak RSS ÷ model size:                 ${(run.peak / bytes).toFixed(3)}`);
    console.log(`(peak RSS − start-up) ÷ largest layer: ${((run.peak - startup) / layer).toFixed(2)}`);
    await calibrated(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
