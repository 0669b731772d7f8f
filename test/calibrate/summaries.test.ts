/**
 * The in-session calibration path (reductions and tails computed by ONNX Runtime) against the
 * reference of every activation value fetched and examined in JavaScript.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectStats } from '../../src/calibrate/collect.js';
import { collectSummaries } from '../../src/calibrate/collect-summaries.js';
import { estimateRange } from '../../src/calibrate/estimators.js';
import { addReductions } from '../../src/calibrate/reduce-graph.js';
import { TensorStats } from '../../src/calibrate/stats.js';
import { Tails } from '../../src/calibrate/tails.js';
import { inferDtypes } from '../../src/onnx/infer-dtypes.js';
import { exposeValues } from '../../src/passes/expose-values.js';
import { Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { createRng } from '../../src/tensor/random.js';
import { randomInput, residualCnn } from '../helpers/tiny-models.js';

const OBSERVED = ['x', 'c1', 'p1', 'c2', 'r2', 'logits'];

function batches(n: number, size: number): Record<string, NdArray>[] {
  return Array.from({ length: n }, (_, i) => {
    const data = randomInput([size, 3, 8, 8], 100 + i);
    // A few outliers so that percentiles and min/max differ.
    if (i === 2) data[5] = 40;
    return { x: { dtype: 'float32', shape: [size, 3, 8, 8], data } };
  });
}

async function* iterate(list: Record<string, NdArray>[]) {
  yield* list;
}

/** Every observed value, fetched whole. */
async function allValues(list: Record<string, NdArray>[]): Promise<Map<string, Float32Array>> {
  const m = residualCnn();
  const ex = exposeValues(m, OBSERVED, inferDtypes(m));
  const r = await Runner.create(ex.model);
  const parts = new Map<string, number[]>(OBSERVED.map((n) => [n, []]));
  for (const b of list) {
    const out = await r.run(b);
    for (const n of OBSERVED) parts.get(n)!.push(...(out[ex.outputs.get(n)!].data as Float32Array));
  }
  await r.release();
  return new Map([...parts].map(([k, v]) => [k, Float32Array.from(v)]));
}

async function summarize(list: Record<string, NdArray>[], percentile: boolean) {
  const m = residualCnn();
  const ex = exposeValues(m, OBSERVED, inferDtypes(m));
  const reductions = addReductions(ex.model, ex.outputs, percentile);
  const stats = new Map(OBSERVED.map((n) => [n, new TensorStats(n)]));
  const r = await Runner.create(ex.model);
  const total = list.reduce((s, b) => s + b.x.shape[0], 0);
  await collectSummaries(r, iterate(list), {
    reductions,
    stats,
    tails: percentile ? { fraction: 1e-3, samples: total } : undefined,
  });
  await r.release();
  return stats;
}

describe('Tails', () => {
  it('keeps the K largest and smallest of a stream, whatever the batching', () => {
    const rng = createRng(3);
    const values = Float32Array.from({ length: 5000 }, () => rng.nextFloat() * 200 - 100);
    const t = new Tails(25);
    for (let i = 0; i < values.length; i += 700) {
      const chunk = values.slice(i, i + 700);
      t.add(
        chunk
          .slice()
          .sort((a, b) => b - a)
          .slice(0, 25),
        chunk
          .slice()
          .sort((a, b) => a - b)
          .slice(0, 25),
      );
    }
    const sorted = values.slice().sort((a, b) => a - b);
    for (const r of [1, 7, 25]) {
      assert.equal(t.largest(r), sorted[sorted.length - r]);
      assert.equal(t.smallest(r), sorted[r - 1]);
    }
    assert.equal(t.largest(26), undefined);
    const mags = Float32Array.from(values, Math.abs).sort((a, b) => b - a);
    for (const r of [1, 10, 25]) assert.equal(t.largestMagnitude(r), mags[r - 1]);
  });
});

describe('in-session calibration statistics', () => {
  it('minmax and ema from in-session reductions equal those from every value', async () => {
    const list = batches(5, 16);
    const summaries = await summarize(list, false);
    const full = new Map(OBSERVED.map((n) => [n, new TensorStats(n)]));
    const m = residualCnn();
    const ex = exposeValues(m, OBSERVED, inferDtypes(m));
    const r = await Runner.create(ex.model);
    await collectStats(r, iterate(list), { outputs: ex.outputs, stats: full });
    await r.release();
    const target = { type: 'uint8' as const, symmetric: false };
    for (const n of OBSERVED) {
      assert.deepEqual(
        estimateRange('minmax', summaries.get(n)!, target),
        estimateRange('minmax', full.get(n)!, target),
        n,
      );
      const [a, b] = [
        estimateRange('ema', summaries.get(n)!, target),
        estimateRange('ema', full.get(n)!, target),
      ];
      assert.ok(Math.abs(a.min - b.min) < 1e-6 && Math.abs(a.max - b.max) < 1e-6, n);
      assert.equal(summaries.get(n)!.moments.count, full.get(n)!.moments.count);
    }
  });

  it('percentiles from in-session tails are the exact order statistics', async () => {
    const list = batches(6, 16);
    const stats = await summarize(list, true);
    const values = await allValues(list);
    for (const n of OBSERVED) {
      const v = values.get(n)!;
      const sorted = v.slice().sort((a, b) => a - b);
      const k = Math.ceil((1 - 0.9999) * v.length);
      const asym = estimateRange(
        'percentile',
        stats.get(n)!,
        { type: 'uint8', symmetric: false },
        { percentile: 99.99 },
      );
      assert.equal(asym.max, sorted[sorted.length - k], `${n} max`);
      assert.equal(asym.min, sorted[k - 1], `${n} min`);
      const mags = Float32Array.from(v, Math.abs).sort((a, b) => b - a);
      const sym = estimateRange(
        'percentile',
        stats.get(n)!,
        { type: 'int8', symmetric: true },
        { percentile: 99.99 },
      );
      assert.equal(
        Math.max(-sym.min, sym.max),
        Math.min(mags[k - 1], Math.max(-sorted[0], sorted[sorted.length - 1])),
        `${n} |x|`,
      );
    }
  });
});
