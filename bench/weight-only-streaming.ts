/**
 * Weight-only quantization of a model larger than the memory it should need (issue 4): a ~1.2 GB
 * synthetic MLP chain (external data, 67 MB layers) quantized to 4-bit MatMulNBits by the CLI in a
 * child process. Reports peak RSS ÷ largest layer and ÷ model size, and the child's start-up peak on a
 * tiny model as the baseline the rest is measured above.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModel } from '../src/io/model-file.js';
import { type ChainSpec, chainBytes, layerShape, syntheticChain } from '../test/helpers/synthetic-chain.js';

const CLI_RSS = join(import.meta.dirname, 'cli-rss-worker.ts');
const MODEL: ChainSpec = { layers: 18, width: 2048, hidden: 8192 };
const TINY: ChainSpec = { layers: 2, width: 64, hidden: 256 };

function quantizeInChild(input: string, output: string): { peak: number; seconds: number } {
  const start = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', CLI_RSS, 'quantize', input, '-o', output, '--mode', 'weight-only', '--quiet'],
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

export function benchWeightOnlyStreaming(): void {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
