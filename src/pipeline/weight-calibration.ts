/**
 * The runtime side of AWQ and GPTQ (passes/weight-only/quantize-calibrated.ts): ONNX Runtime sessions
 * for the statistics models, the calibration batches, and AWQ's candidate errors evaluated by small
 * ONNX Runtime models (gram-loss-model.ts) instead of JavaScript loops (bench/weight-only.ts).
 */
import type { AwqEvaluator } from '../algorithms/awq.js';
import type { SampleSource } from '../data/sample-source.js';
import type { Model } from '../onnx/model.js';
import { blockLossModel, GRAM_LOSS_IO, gramLossModel } from '../passes/weight-only/gram-loss-model.js';
import type { WeightCalibration } from '../passes/weight-only/quantize-calibrated.js';
import type { ProgressCallback } from '../progress.js';
import { QuantkitError } from '../errors.js';
import type { RuntimeArray } from '../runtime/ort-tensor.js';
import { Runner, type RuntimeOptions } from '../runtime/session.js';
import type { NdArray } from '../tensor/ndarray.js';

export interface OrtWeightCalibration extends WeightCalibration {
  /** Releases the sessions kept for AWQ's loss evaluation. */
  close(): Promise<void>;
}

export function ortWeightCalibration(
  source: SampleSource,
  batchSize: number,
  runtime: RuntimeOptions | undefined,
  onProgress?: ProgressCallback,
): OrtWeightCalibration {
  const sessions = new Map<() => Model, Promise<Runner>>();
  const evaluate = async (
    make: () => Model,
    gram: Float32Array,
    gramDims: number[],
    diffs: Float32Array,
    diffDims: number[],
  ) => {
    let runner = sessions.get(make);
    if (!runner) sessions.set(make, (runner = Runner.create(make(), runtime)));
    const out = await (
      await runner
    ).run({
      [GRAM_LOSS_IO.gram]: { dtype: 'float32', shape: gramDims, data: gram },
      [GRAM_LOSS_IO.diffs]: { dtype: 'float32', shape: diffDims, data: diffs },
    });
    return out[GRAM_LOSS_IO.loss].data as Float32Array;
  };
  const evaluator: AwqEvaluator = {
    total: async (gram, k, diffs, n, count) =>
      Float64Array.from(await evaluate(gramLossModel, gram, [k, k], diffs, [count, k, n])),
    perBlock: (grams, blocks, size, diffs, n, count) =>
      evaluate(blockLossModel, grams, [blocks, size, size], diffs, [count, blocks, size, n]),
  };
  return {
    open: async (model) => {
      const runner = await Runner.create(model, runtime);
      return {
        run: async (feeds, fetch) => numeric(await runner.run(feeds, fetch)),
        release: () => runner.release(),
      };
    },
    batches: () => source.batches(batchSize),
    awq: evaluator,
    onProgress,
    async close() {
      for (const runner of sessions.values()) await (await runner).release();
    },
  };
}

/** Layer inputs and the values between segments are numbers; a string tensor there is a model error. */
function numeric(out: Record<string, RuntimeArray>): Record<string, NdArray> {
  for (const [name, a] of Object.entries(out)) {
    if (a.dtype === 'string') {
      throw new QuantkitError(`'${name}' holds strings: weight-only calibration runs numeric tensors only`);
    }
  }
  return out as Record<string, NdArray>;
}
