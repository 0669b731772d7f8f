/**
 * The language-model half of `npm run demo`: the bundled character-level LM (examples/models/tiny_lm)
 * quantized weight-only with each algorithm, every result saved, reloaded and scored by perplexity in
 * ONNX Runtime on the 64 held-out windows. AWQ and GPTQ calibrate on bundled calibration windows;
 * RTN and HQQ use no data. An algorithm this build lacks is skipped with a line saying so.
 */
import { join } from 'node:path';
import { table } from '../src/cli/format.js';
import { recordBatches } from '../src/data/batches.js';
import { requiredInputs } from '../src/data/model-inputs.js';
import { readNpy } from '../src/data/npy-file.js';
import { arraySampleSource } from '../src/data/sample-source.js';
import { isQuantkitError } from '../src/errors.js';
import { evaluate } from '../src/evaluate/evaluate.js';
import { loadModel, saveModel } from '../src/io/model-file.js';
import type { Model } from '../src/onnx/model.js';
import type { QuantizeOptions } from '../src/pipeline/options.js';
import { quantize } from '../src/pipeline/quantize.js';
import type { NdArray } from '../src/tensor/ndarray.js';
import { EXAMPLES, MODELS } from './fmnist.js';

type Run = Required<Pick<QuantizeOptions, 'algorithm' | 'bits' | 'blockSize'>> &
  Pick<QuantizeOptions, 'format' | 'opTypes'>;

const RUNS: Run[] = [
  { algorithm: 'rtn', bits: 4, blockSize: 32 },
  { algorithm: 'hqq', bits: 4, blockSize: 32 },
  // The token embedding too, as GatherBlockQuantized.
  { algorithm: 'rtn', bits: 4, blockSize: 32, opTypes: ['MatMul', 'Gemm', 'Gather'] },
  { algorithm: 'rtn', bits: 4, blockSize: 128 },
  { algorithm: 'hqq', bits: 4, blockSize: 128 },
  { algorithm: 'awq', bits: 4, blockSize: 128 },
  { algorithm: 'gptq', bits: 4, blockSize: 128 },
  { algorithm: 'rtn', bits: 3, blockSize: 128, format: 'qdq' },
  { algorithm: 'gptq', bits: 3, blockSize: 128, format: 'qdq' },
  { algorithm: 'rtn', bits: 8, blockSize: 32 },
];

const CALIBRATED = new Set(['awq', 'gptq']);
/**
 * Of the 128 bundled calibration windows: AWQ and GPTQ reach the same perplexity with 16, 32 or all
 * 128 on this model (measured), and 16 keep the demo short.
 */
const CALIB_WINDOWS = 16;

/** Prints the table: FP32 first, then one row per run; `dir` holds the saved models. */
export async function languageModelTable(dir: string): Promise<void> {
  const fp32 = loadModel(join(MODELS, 'tiny_lm.onnx'));
  const heldout = await readNpy(join(EXAMPLES, 'data', 'lm-heldout.npy'));
  const calib = await readNpy(join(EXAMPLES, 'data', 'lm-calib.npy'));
  const [windows, steps] = heldout.shape;
  console.log(
    '\nquantkit demo: character-level LM (examples/models/tiny_lm.onnx) quantized weight-only; ' +
      `perplexity on ${windows} held-out windows of ${steps} characters`,
  );
  try {
    const base = await perplexity(fp32, heldout);
    const rows: string[][] = [
      ['FP32 (original)', '32', '', base.perplexity.toFixed(3), '', kb(base.bytes), ''],
    ];
    const skipped: string[] = [];
    for (const run of RUNS) {
      const calibration = CALIBRATED.has(run.algorithm)
        ? arraySampleSource({ input_ids: calib }, requiredInputs(fp32.graph), { limit: CALIB_WINDOWS })
        : undefined;
      let model: Model;
      const started = performance.now();
      try {
        ({ model } = await quantize(fp32, { mode: 'weight-only', calibration, ...run }));
      } catch (e) {
        if (!unavailable(e)) throw e;
        skipped.push(`${run.algorithm}: ${(e as Error).message}`);
        continue;
      }
      const seconds = (performance.now() - started) / 1000;
      const path = join(dir, `lm-${rows.length}.onnx`);
      saveModel(model, path);
      const saved = loadModel(path);
      const r = await perplexity(saved, heldout);
      saved.dispose();
      const delta = r.perplexity - base.perplexity;
      rows.push([
        `${run.algorithm.toUpperCase()}${run.format === 'qdq' ? ' (QDQ)' : ''}` +
          `${run.opTypes?.includes('Gather') ? ' + embedding' : ''}`,
        String(run.bits),
        String(run.blockSize),
        r.perplexity.toFixed(3),
        `${delta >= 0 ? '+' : ''}${delta.toFixed(3)} (${((delta / base.perplexity) * 100).toFixed(1)}%)`,
        `${kb(r.bytes)} (${(r.bytes / base.bytes).toFixed(2)}×)`,
        seconds.toFixed(1),
      ]);
    }
    console.log(table(rows, ['algorithm', 'bits', 'block', 'perplexity', 'Δ vs FP32', 'size', 'quantize s']));
    for (const s of skipped) console.log(`skipped ${s}`);
  } finally {
    fp32.dispose();
  }
}

async function perplexity(model: Model, heldout: NdArray): Promise<{ perplexity: number; bytes: number }> {
  const r = await evaluate(model, recordBatches({ input_ids: heldout }, 16), { task: 'lm', latency: false });
  return { perplexity: r.perplexity!, bytes: r.bytes };
}

/** An algorithm this build does not have: the demo skips it rather than stopping. */
function unavailable(e: unknown): boolean {
  return isQuantkitError(e) && /unknown weight-only algorithm|not available in this version/.test(e.message);
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
