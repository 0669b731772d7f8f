/**
 * Streams calibration batches through a model that exposes the activations to observe, feeding each
 * to its TensorStats. Only the current batch's activations are ever held: memory does not grow with
 * the number of samples (ONNX Runtime's histogram calibrators keep them all, issue #10503).
 */
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';
import type { TensorStats } from './stats.js';

/** What the collector needs from a runtime session: one batch in, the named outputs back. */
export interface BatchRunner {
  run(feeds: Record<string, NdArray>): Promise<Record<string, { data: unknown }>>;
}

export interface CollectOptions {
  /** Activation → the model output holding it (see exposeValues). */
  outputs: ReadonlyMap<string, string>;
  stats: ReadonlyMap<string, TensorStats>;
  /** Called after every batch with the number of samples seen so far. */
  onBatch?: (samples: number) => void;
}

/** Returns how many samples went through. */
export async function collectStats(
  runner: BatchRunner,
  batches: AsyncIterable<Record<string, NdArray>>,
  opts: CollectOptions,
): Promise<number> {
  let samples = 0;
  for await (const feeds of batches) {
    const out = await runner.run(feeds);
    for (const [name, output] of opts.outputs) {
      const data = out[output]?.data;
      if (!(data instanceof Float32Array)) {
        throw new QuantkitError(
          `activation '${name}' did not come out of the model as float32; it cannot be calibrated`,
        );
      }
      opts.stats.get(name)!.update(data);
    }
    samples += batchSize(feeds);
    opts.onBatch?.(samples);
  }
  if (samples === 0) throw new QuantkitError('the calibration data holds no samples');
  return samples;
}

function batchSize(feeds: Record<string, NdArray>): number {
  const first = Object.values(feeds)[0];
  return first && first.shape.length > 0 ? first.shape[0] : 1;
}
