// HQQ against RTN on a weight with outliers: closer weights and closer outputs, without data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BlockQuantized, dequantizeBlocks } from '../../src/algorithms/blocked-weight.js';
import { hqq } from '../../src/algorithms/hqq.js';
import { rtn, type RtnRule } from '../../src/algorithms/rtn.js';
import { outputError, rmse, weightWithOutliers } from './weights.js';

const K = 512;
const N = 64;

/** Mean |W − W'| of each (column, block), the quantity HQQ's early stop compares. */
function blockErrors(w: Float32Array, q: BlockQuantized): number[] {
  const deq = dequantizeBlocks(q);
  const out: number[] = [];
  for (let c = 0; c < q.n; c++) {
    for (let start = 0; start < q.k; start += q.blockSize) {
      const end = Math.min(q.k, start + q.blockSize);
      let s = 0;
      for (let r = start; r < end; r++) s += Math.abs(w[r * q.n + c] - deq[r * q.n + c]);
      out.push(s / (end - start));
    }
  }
  return out;
}

describe('hqq', () => {
  for (const [bits, blockSize] of [
    [4, 32],
    [4, 128],
    [2, 32],
    [8, 64],
  ]) {
    it(`${bits}-bit blocks of ${blockSize}: lower weight and output error than every RTN rule`, () => {
      const w = weightWithOutliers(K, N, 11);
      const shape = { k: K, n: N, bits, blockSize };
      const h = dequantizeBlocks(hqq(w, shape));
      for (const rule of ['asymmetric', 'signed-max', 'restricted'] as RtnRule[]) {
        const r = dequantizeBlocks(rtn(w, shape, rule));
        assert.ok(rmse(w, h) < rmse(w, r), `weights vs ${rule}: ${rmse(w, h)} ≥ ${rmse(w, r)}`);
        const [eh, er] = [outputError(w, h, K, N), outputError(w, r, K, N)];
        assert.ok(eh < er, `outputs vs ${rule}: ${eh} ≥ ${er}`);
      }
    });
  }

  it('starts from asymmetric RTN and never ends worse in any block', () => {
    const w = weightWithOutliers(200, 16, 5);
    const shape = { k: 200, n: 16, bits: 4, blockSize: 64 };
    const start = rtn(w, shape, 'asymmetric');
    assert.deepEqual(hqq(w, shape, { iterations: 0 }), start);
    const before = blockErrors(w, start);
    const after = blockErrors(w, hqq(w, shape));
    // The early stop compares errors computed in float64; the stored float32 scale may differ in the last bit.
    after.forEach((e, i) => assert.ok(e <= before[i] * (1 + 1e-6), `block ${i}: ${e} > ${before[i]}`));
  });

  it('positive float32 scales and integer zero points within the code range', () => {
    const w = weightWithOutliers(K, N, 2);
    const q = hqq(w, { k: K, n: N, bits: 4, blockSize: 32 });
    assert.ok(q.scales.every((s) => s > 0 && Math.fround(s) === s));
    assert.ok(q.zeroPoints.every((z) => z <= 15));
    assert.ok(q.codes.every((c) => c <= 15));
  });
});
