/**
 * Post-training quantization of the bundled CNN (issue 3's targets):
 * - INT8 vs FP32 speed at batch 1 and 64 (interleaved runs, 1 thread, spinning off);
 * - calibration time ÷ plain FP32 inference over the same samples (target ≤ 1.5);
 * - peak RSS of `quantkit quantize` with 100 vs 1000 calibration samples read from a folder of
 *   per-sample .npy files (target: within 10%).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordBatches } from '../src/data/batches.js';
import { requiredInputs } from '../src/data/model-inputs.js';
import { writeNpy } from '../src/data/npy-file.js';
import { arraySampleSource } from '../src/data/sample-source.js';
import { evaluate } from '../src/evaluate/evaluate.js';
import { loadModel } from '../src/io/model-file.js';
import { cloneModel } from '../src/onnx/clone.js';
import { inferDtypes } from '../src/onnx/infer-dtypes.js';
import { prepareModel } from '../src/passes/prepare/prepare-model.js';
import { DEFAULT_OP_TYPES } from '../src/passes/qdq/op-rules.js';
import { planStatic } from '../src/passes/qdq/plan.js';
import { calibrate } from '../src/pipeline/calibrate.js';
import { quantize } from '../src/pipeline/quantize.js';
import { evaluateConstants } from '../src/runtime/evaluate-constants.js';
import { Runner } from '../src/runtime/session.js';
import { sliceAxis0 } from '../src/tensor/ndarray.js';
import { fashionMnist, MODELS } from '../examples/fmnist.js';
import { median } from './env.js';

const CLI_RSS = join(import.meta.dirname, 'cli-rss-worker.ts');

export async function benchPtq(): Promise<void> {
  const path = join(MODELS, 'fmnist_cnn.onnx');
  const fp32 = loadModel(path);
  const calib = fashionMnist('calib');
  const test = fashionMnist('test');
  const source = arraySampleSource({ input: calib.x }, requiredInputs(fp32.graph));
  const { model: int8 } = await quantize(fp32, { calibration: source });

  console.log('\n## PTQ: bundled Fashion-MNIST CNN, static QDQ (defaults)');
  for (const batch of [1, 64]) {
    const r = await evaluate(int8, recordBatches({ input: sliceAxis0(test.x, 0, 256) }, batch), {
      reference: fp32,
      batchSize: batch,
      latency: { runs: batch === 1 ? 200 : 60 },
    });
    console.log(
      `batch ${String(batch).padStart(2)}: INT8 ${r.latencyMs!.cpuMedian.toFixed(3)} ms, FP32 ` +
        `${r.reference!.latencyMs!.cpuMedian.toFixed(3)} ms → INT8 is ${r.comparison!.speedup!.toFixed(2)}× as fast`,
    );
  }

  for (const method of ['minmax', 'percentile'] as const) {
    const ratio = await calibrationRatio(fp32, source, method);
    console.log(
      `calibration (${method}) ÷ FP32 inference over the same 1000 samples: ${ratio.toFixed(2)}   (target ≤ 1.5)`,
    );
  }

  const dir = mkdtempSync(join(tmpdir(), 'quantkit-bench-ptq-'));
  try {
    const folder = join(dir, 'calib');
    mkdirSync(folder);
    for (let i = 0; i < 1000; i++) {
      await writeNpy(join(folder, `${String(i).padStart(4, '0')}.npy`), {
        dtype: 'float32',
        shape: [1, 28, 28],
        data: (calib.x.data as Float32Array).slice(i * 784, (i + 1) * 784),
      });
    }
    const rss = (n: number) => {
      const args = [
        'quantize',
        path,
        '-o',
        join(dir, `q${n}.onnx`),
        '--calib-data',
        folder,
        '--calib-samples',
        String(n),
        '--quiet',
      ];
      const r = spawnSync(process.execPath, ['--import', 'tsx', CLI_RSS, ...args], { encoding: 'utf8' });
      const peak = /PEAK_RSS (\d+)/.exec(r.stderr)?.[1];
      if (r.status !== 0 || !peak) throw new Error(r.stderr);
      return Number(peak);
    };
    const small = median([rss(100), rss(100), rss(100)]);
    const large = median([rss(1000), rss(1000), rss(1000)]);
    console.log(
      `peak RSS of quantkit quantize: 100 samples ${(small / 1e6).toFixed(0)} MB, 1000 samples ` +
        `${(large / 1e6).toFixed(0)} MB → ratio ${(large / small).toFixed(3)}   (target within 10%)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    fp32.dispose();
  }
}

/** Time of calibrate() ÷ time of running the FP32 model over the same batches, medians of 3. */
async function calibrationRatio(
  fp32: ReturnType<typeof loadModel>,
  source: ReturnType<typeof arraySampleSource>,
  method: 'minmax' | 'percentile',
): Promise<number> {
  const work = cloneModel(fp32);
  await prepareModel(work, { evaluate: evaluateConstants });
  const dtypes = inferDtypes(work);
  const plan = planStatic(work, dtypes, {
    opTypes: DEFAULT_OP_TYPES,
    filter: {},
    perChannel: true,
    quantizeBias: true,
  });
  const names = [...plan.activations.values()].filter((a) => !a.sameAs && !a.fixedRange).map((a) => a.name);
  const cal: number[] = [];
  const inf: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    await calibrate(work, names, dtypes, source, {
      method,
      target: { type: 'uint8', symmetric: false },
      percentile: 99.999,
      batchSize: 32,
    });
    cal.push(performance.now() - t);
    t = performance.now();
    const runner = await Runner.create(work);
    for await (const batch of source.batches(32)) await runner.run(batch);
    await runner.release();
    inf.push(performance.now() - t);
  }
  return median(cal) / median(inf);
}
