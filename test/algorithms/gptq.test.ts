// GPTQ against hand-worked cases and its defining property, and the Cholesky factorizations under it
// against direct multiplication.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dequantizeBlocks } from '../../src/algorithms/blocked-weight.js';
import { gptq } from '../../src/algorithms/gptq.js';
import {
  choleskyLower,
  inverseCholeskyUpper,
  invertLower,
  NotPositiveDefinite,
} from '../../src/algorithms/linalg/cholesky.js';
import { rtn } from '../../src/algorithms/rtn.js';
import { createRng } from '../../src/tensor/random.js';
import { weightWithOutliers } from './weights.js';

function matmul(a: Float64Array, b: Float64Array, n: number, transposeA = false): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (transposeA ? a[k * n + i] : a[i * n + k]) * b[k * n + j];
      out[i * n + j] = s;
    }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** XᵀX of `rows` random rows of K channels in which channel c mixes in channel c−1 (correlated). */
function correlatedGram(k: number, rows: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const g = new Float64Array(k * k);
  const x = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < k; c++)
      x[c] = (2 * rng.nextFloat() - 1) * (1 + (c % 7)) + (c > 0 ? 0.8 * x[c - 1] : 0);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) g[i * k + j] += x[i] * x[j];
  }
  return g;
}

/** Σ over columns of dᵀGd, d = W − W': the layer's output error on the inputs behind G. */
function outputError(w: Float32Array, approx: Float32Array, g: Float64Array, k: number, n: number): number {
  let e = 0;
  for (let c = 0; c < n; c++)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        e += (w[i * n + c] - approx[i * n + c]) * g[i * k + j] * (w[j * n + c] - approx[j * n + c]);
  return e;
}

describe('cholesky', () => {
  const n = 37;
  const g = correlatedGram(n, 60, 3);
  for (let i = 0; i < n; i++) g[i * n + i] += 0.1;

  it('L·Lᵀ = A and L⁻¹·L = I', () => {
    const l = choleskyLower(g, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0);
    const lt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) lt[i * n + j] = l[j * n + i];
    assert.ok(maxAbsDiff(matmul(l, lt, n), g) < 1e-9 * Math.max(...g));
    assert.ok(maxAbsDiff(matmul(invertLower(l, n), l, n), identity(n)) < 1e-9);
  });

  it("GPTQ's factor: U upper with a positive diagonal and Uᵀ·U·H = I", () => {
    const u = inverseCholeskyUpper(g, n);
    for (let i = 0; i < n; i++) {
      assert.ok(u[i * n + i] > 0);
      for (let j = 0; j < i; j++) assert.equal(u[i * n + j], 0);
    }
    assert.ok(maxAbsDiff(matmul(matmul(u, u, n, true), g, n), identity(n)) < 1e-8);
  });

  it('refuses a matrix that is not positive definite', () => {
    assert.throws(() => choleskyLower(Float64Array.of(1, 2, 2, 1), 2), NotPositiveDefinite);
  });
});

describe('gptq', () => {
  it('inputs whose XᵀX is diagonal: nothing to compensate, GPTQ is round-to-nearest', () => {
    const [k, n] = [40, 6];
    const w = weightWithOutliers(k, n, 11);
    const g = new Float64Array(k * k);
    for (let i = 0; i < k; i++) g[i * k + i] = 1 + (i % 5);
    g[3 * k + 3] = 0; // a channel the calibration never exercised
    for (const rule of ['signed-max', 'asymmetric'] as const) {
      const expected = rtn(w, { k, n, bits: 4, blockSize: 16 }, rule);
      for (const actOrder of [false, true]) {
        const q = gptq(w, { k, n, bits: 4, blockSize: 16 }, g, rule, { actOrder });
        assert.deepEqual(
          [q.codes, q.scales, q.zeroPoints],
          [expected.codes, expected.scales, expected.zeroPoints],
        );
      }
    }
  });

  it("K = 3 by hand: row 0's rounding error moves onto row 1 by H₁₀/H₁₁, changing its code", () => {
    // One block holds all three rows; row 2 has the largest magnitude, so the signed-max scale is
    // −0.52 / −8 = 0.065 and the zero point 8. Row 2 is uncorrelated with the others.
    const w = Float32Array.of(0.23, 0.1, -0.52);
    const h = Float64Array.of(2, 1.2, 0, 1.2, 1, 0, 0, 0, 1);
    const scale = Math.fround(0.065);
    // Row 0: 0.23 / 0.065 = 3.54 → 4, code 12, value 0.26, error 0.23 − 0.26 = −0.03.
    // Row 1: 0.1 + (1.2 / 1)·(−0.03) = 0.064; 0.064 / 0.065 = 0.98 → 1, code 9
    // (round-to-nearest: 0.1 / 0.065 = 1.54 → 2, code 10).
    // Row 2: −0.52 / 0.065 = −8, code 0.
    const q = gptq(w, { k: 3, n: 1, bits: 4, blockSize: 4 }, h, 'signed-max', { damp: 0 });
    assert.deepEqual([...q.codes], [12, 9, 0]);
    assert.equal(q.scales[0], scale);
    assert.deepEqual([...rtn(w, { k: 3, n: 1, bits: 4, blockSize: 4 }, 'signed-max').codes], [12, 10, 0]);
  });

  it('correlated inputs: a much smaller layer output error than round-to-nearest, with and without act-order', () => {
    const [k, n] = [96, 24];
    const w = weightWithOutliers(k, n, 5);
    const g = correlatedGram(k, 400, 8);
    for (const bits of [3, 4]) {
      const shape = { k, n, bits, blockSize: 32 };
      const base = outputError(w, dequantizeBlocks(rtn(w, shape, 'signed-max')), g, k, n);
      for (const actOrder of [false, true]) {
        const e = outputError(w, dequantizeBlocks(gptq(w, shape, g, 'signed-max', { actOrder })), g, k, n);
        assert.ok(e < 0.7 * base, `${bits}-bit, act-order ${actOrder}: ${e} vs RTN ${base}`);
      }
    }
  });
});
