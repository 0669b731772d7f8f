// AWQ's scale and clipping searches: the errors they minimise, recomputed directly from activation
// rows (no Gram matrix), the choice they make on inputs with outlier channels, and ONNX Runtime's
// evaluation of the quadratic forms against float64 loops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AwqEvaluator,
  awqClip,
  awqSearch,
  channelScales,
  clippedRtn,
} from '../../src/algorithms/awq.js';
import { dequantizeBlocks } from '../../src/algorithms/blocked-weight.js';
import { rtn } from '../../src/algorithms/rtn.js';
import { ortWeightCalibration } from '../../src/pipeline/weight-calibration.js';
import { arraySampleSource } from '../../src/data/sample-source.js';
import { createRng } from '../../src/tensor/random.js';
import { weightWithOutliers } from './weights.js';

/** Activation rows [m, K] where every 8th channel is 20× larger: the channels AWQ protects. */
function activations(m: number, k: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: m * k }, (_, i) => (2 * rng.nextFloat() - 1) * (i % 8 === 0 ? 20 : 1));
}

function gramOf(x: Float64Array, k: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let r = 0; r < x.length / k; r++)
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) g[i * k + j] += x[r * k + i] * x[r * k + j];
  return g;
}

function absMean(x: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < x.length; i++) out[i % k] += Math.abs(x[i]) / (x.length / k);
  return out;
}

/** ‖X·W − X·W′‖² from the rows, in float64. */
function rowsError(x: Float64Array, w: Float32Array, approx: Float64Array, k: number, n: number): number {
  let e = 0;
  for (let r = 0; r < x.length / k; r++)
    for (let c = 0; c < n; c++) {
      let d = 0;
      for (let i = 0; i < k; i++) d += x[r * k + i] * (w[i * n + c] - approx[i * n + c]);
      e += d * d;
    }
  return e;
}

/** The quadratic forms in float64 loops: the reference ONNX Runtime's evaluation is held to. */
const float64Evaluator: AwqEvaluator = {
  async total(gram, k, diffs, n, count) {
    return Float64Array.from({ length: count }, (_, a) => {
      let e = 0;
      for (let c = 0; c < n; c++)
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++)
            e += diffs[(a * k + i) * n + c] * gram[i * k + j] * diffs[(a * k + j) * n + c];
      return e;
    });
  },
  async perBlock(grams, blocks, size, diffs, n, count) {
    const out = new Float32Array(count * blocks * n);
    for (let a = 0; a < count; a++)
      for (let b = 0; b < blocks; b++)
        for (let c = 0; c < n; c++) {
          let e = 0;
          for (let i = 0; i < size; i++)
            for (let j = 0; j < size; j++) {
              const di = diffs[((a * blocks + b) * size + i) * n + c];
              const dj = diffs[((a * blocks + b) * size + j) * n + c];
              e += di * grams[(b * size + i) * size + j] * dj;
            }
          out[(a * blocks + b) * n + c] = e;
        }
    return out;
  },
};

const [K, N, M] = [64, 12, 256];
const SPEC = { bits: 4, blockSize: 32, rule: 'signed-max' as const };

describe('awq', () => {
  it('s = mean|x|^α normalised by √(max·min); α = 0 leaves the weights alone', () => {
    assert.deepEqual([...channelScales(Float64Array.of(1, 4, 16), 0.5)], [0.5, 1, 2]);
    assert.deepEqual([...channelScales(Float64Array.of(1, 4, 16), 0)], [1, 1, 1]);
  });

  it('scale search on outlier channels: α > 0, and the errors are those of the activation rows', async () => {
    const x = activations(M, K, 1);
    const w = weightWithOutliers(K, N, 2);
    const r = await awqSearch([{ weight: w, n: N }], K, gramOf(x, K), absMean(x, K), SPEC, float64Evaluator);
    const shape = { k: K, n: N, ...SPEC };
    const rtnError = rowsError(x, w, Float64Array.from(dequantizeBlocks(rtn(w, shape, SPEC.rule))), K, N);
    const scaled = dequantizeBlocks(r.quantized[0]);
    const approx = Float64Array.from(scaled, (v, i) => v / r.scales[Math.floor(i / N)]);
    assert.ok(r.alpha > 0, `α ${r.alpha}`);
    assert.ok(Math.abs(r.rtnError - rtnError) < 1e-4 * rtnError, `${r.rtnError} vs ${rtnError}`);
    const direct = rowsError(x, w, approx, K, N);
    assert.ok(Math.abs(r.error - direct) < 1e-4 * direct, `${r.error} vs ${direct}`);
    assert.ok(r.error < 0.8 * r.rtnError, `${r.error} vs RTN ${r.rtnError}`);
  });

  it('clipping: ratio 1 is round-to-nearest; each chosen ratio is no worse than 1 on its block', async () => {
    const x = activations(M, K, 3);
    const w = weightWithOutliers(K, N, 4);
    const shape = { k: K, n: N, ...SPEC };
    const ones = new Float32Array(N * 2).fill(1);
    const plain = rtn(w, shape, SPEC.rule);
    const same = clippedRtn(w, shape, SPEC.rule, ones);
    assert.deepEqual(
      [same.codes, same.scales, same.zeroPoints],
      [plain.codes, plain.scales, plain.zeroPoints],
    );
    const ratios = await awqClip(
      w,
      shape,
      gramOf(x, K),
      new Float32Array(K).fill(1),
      SPEC.rule,
      float64Evaluator,
    );
    assert.ok(ratios.some((r) => r < 1));
    const clipped = dequantizeBlocks(clippedRtn(w, shape, SPEC.rule, ratios));
    const base = dequantizeBlocks(plain);
    for (let b = 0; b < 2; b++) {
      const rows = x.filter((_, i) => Math.floor((i % K) / 32) === b);
      for (let c = 0; c < N; c++) {
        const column = (d: Float32Array) =>
          Float64Array.from({ length: 32 }, (_, i) => d[(b * 32 + i) * N + c]);
        const wc = Float32Array.from(column(w));
        const e = rowsError(rows, wc, column(clipped), 32, 1);
        assert.ok(e <= rowsError(rows, wc, column(base), 32, 1) * (1 + 1e-6), `block ${b} column ${c}`);
      }
    }
  });

  it("ONNX Runtime's evaluation equals the float64 loops", async () => {
    const rng = createRng(9);
    const random = (n: number) => Float32Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
    const cal = ortWeightCalibration(
      arraySampleSource({ x: { dtype: 'float32', shape: [1, 1], data: random(1) } }, [
        { name: 'x', dtype: 'float32', shape: [null, 1] },
      ]),
      1,
      undefined,
    );
    try {
      const [k, n, count] = [48, 5, 3];
      const gram = random(k * k);
      const diffs = random(count * k * n);
      const [got, want] = await Promise.all([
        cal.awq.total(gram, k, diffs, n, count),
        float64Evaluator.total(gram, k, diffs, n, count),
      ]);
      for (let a = 0; a < count; a++) assert.ok(Math.abs(got[a] - want[a]) < 1e-4 * (1 + Math.abs(want[a])));
      const [blocks, size] = [3, 16];
      const grams = random(blocks * size * size);
      const blockGot = await cal.awq.perBlock(grams, blocks, size, diffs, n, count);
      const blockWant = await float64Evaluator.perBlock(grams, blocks, size, diffs, n, count);
      for (let i = 0; i < blockWant.length; i++)
        assert.ok(Math.abs(blockGot[i] - blockWant[i]) < 1e-4 * (1 + Math.abs(blockWant[i])));
    } finally {
      await cal.close();
    }
  });
});
