/**
 * The fast calibration path: batches run through a model whose observed values are reduced inside the
 * session (reduce-graph.ts), so per batch and tensor only a min, a max, a count, a sum and optionally
 * 2K tail values come back. Serves minmax, ema and percentile; the histogram methods need every value
 * and use collectStats.
 */
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';
import type { BatchRunner } from './collect.js';
import type { ReducedOutputs } from './reduce-graph.js';
import type { TensorStats } from './stats.js';
import { Tails } from './tails.js';

export interface SummaryOptions {
  reductions: ReadonlyMap<string, ReducedOutputs>;
  stats: ReadonlyMap<string, TensorStats>;
  /**
   * Fraction of each tensor's values beyond the percentile to keep exact (1 − p/100), and how many
   * samples the whole pass holds: together they size each tensor's tails.
   */
  tails?: { fraction: number; samples: number };
  onBatch?: (samples: number) => void;
}

/** Returns how many samples went through. */
export async function collectSummaries(
  runner: BatchRunner,
  batches: AsyncIterable<Record<string, NdArray>>,
  opts: SummaryOptions,
): Promise<number> {
  let samples = 0;
  let k: Record<string, NdArray> | undefined;
  for await (const feeds of batches) {
    const rows = batchRows(feeds);
    if (opts.tails && !k) k = await sizeTails(runner, feeds, rows, opts);
    const out = await runner.run({ ...feeds, ...k });
    for (const [name, r] of opts.reductions) {
      const stats = opts.stats.get(name)!;
      const count = Number((out[r.size].data as BigInt64Array)[0]);
      const sum = (out[r.sum].data as Float32Array)[0];
      if (r.top && r.bottom) {
        const top = out[r.top].data as Float32Array;
        const bottom = out[r.bottom].data as Float32Array;
        const [min, max] = count > 0 ? [bottom[0], top[0]] : [Infinity, -Infinity];
        stats.updateSummary(count, min, max, Number.isNaN(sum));
        stats.tails!.add(top, bottom);
      } else {
        stats.updateSummary(count, scalar(out[r.min!]), scalar(out[r.max!]), Number.isNaN(sum));
      }
    }
    samples += rows;
    opts.onBatch?.(samples);
  }
  if (samples === 0) throw new QuantkitError('the calibration data holds no samples');
  return samples;
}

/**
 * Runs the first batch with K = 0 to learn how many values each tensor has per sample, then sizes each
 * tensor's tails: K = ⌈fraction · values per sample · samples⌉ (+1 against rounding).
 */
async function sizeTails(
  runner: BatchRunner,
  feeds: Record<string, NdArray>,
  rows: number,
  opts: SummaryOptions,
): Promise<Record<string, NdArray>> {
  const zero: Record<string, NdArray> = {};
  for (const r of opts.reductions.values()) zero[r.k!] = kArray(0);
  const probe = await runner.run({ ...feeds, ...zero });
  const k: Record<string, NdArray> = {};
  const { fraction, samples } = opts.tails!;
  for (const [name, r] of opts.reductions) {
    const perSample = Number((probe[r.size].data as BigInt64Array)[0]) / Math.max(rows, 1);
    const kept = Math.ceil(fraction * perSample * samples) + 1;
    opts.stats.get(name)!.tails = new Tails(kept);
    k[r.k!] = kArray(kept);
  }
  return k;
}

function kArray(k: number): NdArray {
  return { dtype: 'int64', shape: [1], data: BigInt64Array.of(BigInt(k)) };
}

function scalar(v: { data: unknown }): number {
  return (v.data as Float32Array)[0];
}

function batchRows(feeds: Record<string, NdArray>): number {
  const first = Object.values(feeds).find((a) => a.shape.length > 0);
  return first ? first.shape[0] : 1;
}
