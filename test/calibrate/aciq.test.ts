import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aciqRange, fitMagnitude } from '../../src/calibrate/aciq.js';
import { clippingError, optimalThreshold } from '../../src/calibrate/clip-models.js';
import { erfc } from '../../src/calibrate/erfc.js';
import { gaussian, laplace, relu, statsOf, withOutliers } from './samples.js';

const near = (actual: number, expected: number, rel: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what} ${actual} vs ${expected}`);

test('erfc against tabulated values', () => {
  const table: Array<[number, number]> = [
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [5, 1.5374597944280349e-12],
    [-1, 1.8427007929497148],
  ];
  for (const [x, v] of table) near(erfc(x), v, 1e-13, `erfc(${x})`);
});

/** 2 ∫_T^∞ (x − T)² pdf(x) dx by Simpson's rule on [T, T + 40·scale]. */
function numericClipError(pdf: (x: number) => number, t: number, scale: number): number {
  const n = 20_000;
  const h = (40 * scale) / n;
  let s = 0;
  for (let k = 0; k <= n; k++) {
    const x = t + k * h;
    s += (k === 0 || k === n ? 1 : k % 2 === 1 ? 4 : 2) * (x - t) ** 2 * pdf(x);
  }
  return (2 * s * h) / 3;
}

test('closed-form clipping errors agree with numerical integration', () => {
  const b = 1.5;
  const laplacePdf = (x: number) => Math.exp(-Math.abs(x) / b) / (2 * b);
  const sigma = 0.7;
  const gaussPdf = (x: number) => Math.exp(-0.5 * (x / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI));
  for (const t of [0.5, 2, 6]) {
    near(clippingError({ distribution: 'laplace', scale: b }, t), numericClipError(laplacePdf, t, b), 1e-8);
    near(
      clippingError({ distribution: 'gaussian', scale: sigma }, t),
      numericClipError(gaussPdf, t, sigma),
      1e-7,
    );
  }
});

test("numerical optimisation reproduces Banner et al.'s α* within 1%", () => {
  // Step 2α / 2^M, as in the paper.
  const laplaceTable: Record<number, number> = { 2: 2.83, 3: 3.89, 4: 5.03, 8: 9.89 };
  for (const [bits, alpha] of Object.entries(laplaceTable)) {
    const t = optimalThreshold({ distribution: 'laplace', scale: 1 }, (a) => (2 * a) / 2 ** +bits, 40);
    near(t, alpha, 0.01, `Laplace ${bits} bits`);
  }
  const gaussianTable: Record<number, number> = {
    2: 1.71,
    3: 2.15,
    4: 2.55,
    5: 2.94,
    6: 3.29,
    7: 3.61,
    8: 3.92,
  };
  for (const [bits, alpha] of Object.entries(gaussianTable)) {
    const t = optimalThreshold({ distribution: 'gaussian', scale: 1 }, (a) => (2 * a) / 2 ** +bits, 40);
    near(t, alpha, 0.01, `Gaussian ${bits} bits`);
  }
});

/** The root of a·e^a = c, by bisection. */
function solveAExpA(c: number): number {
  let lo = 0;
  let hi = 50;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid * Math.exp(mid) < c) lo = mid;
    else hi = mid;
  }
  return lo;
}

test('Laplace samples with known b: α within a few % of the analytic optimum, outliers ignored', () => {
  const b = 2;
  const data = withOutliers(laplace(41, 1 << 19, b), [300, -250]);
  const r = aciqRange(statsOf(data, { histogram: 'abs' }), { type: 'int8', symmetric: true });
  // d/dT [2b² e^(−T/b) + (2T/254)²/12] = 0  ⇔  a·e^a = 3 · 254² with T = a·b.
  const expected = solveAExpA(3 * 254 ** 2) * b;
  near(r.max, expected, 0.03, 'T');
  assert.equal(r.min, -r.max);
});

test('Gaussian samples: the Gaussian model is chosen and α ≈ 3.92σ at 8 bits', () => {
  const sigma = 1.5;
  const data = withOutliers(gaussian(42, 1 << 19, sigma), [40, -45]);
  const r = aciqRange(statsOf(data, { histogram: 'abs' }), { type: 'int8', symmetric: true });
  near(r.max, 3.92 * sigma, 0.03, 'T');
});

test('model choice: Laplace iff rms / mean|x| > e^½ √(2/π) ≈ 1.3155', () => {
  const choose = (data: Float32Array) => {
    const m = statsOf(data).moments;
    return fitMagnitude(m, m.count, 'auto')!;
  };
  assert.equal(choose(laplace(43, 100_000, 3)).distribution, 'laplace');
  near(choose(laplace(43, 100_000, 3)).scale, 3, 0.02);
  assert.equal(choose(gaussian(44, 100_000, 0.5)).distribution, 'gaussian');
  near(choose(gaussian(44, 100_000, 0.5)).scale, 0.5, 0.02);
  // rms/mean|x| of {1, 3}: √5 / 2 = 1.118 → Gaussian; of {0.1, 3}: 2.12 / 1.55 = 1.37 → Laplace.
  assert.equal(choose(Float32Array.from([1, -3])).distribution, 'gaussian');
  assert.equal(choose(Float32Array.from([0.1, -3])).distribution, 'laplace');
  assert.equal(fitMagnitude(statsOf(Float32Array.from([1, 3])).moments, 2, 'laplace')!.scale, 2);
});

test('ReLU outputs: exact zeros are left out of the fit', () => {
  const data = relu(gaussian(45, 1 << 19));
  const stats = statsOf(data, { histogram: 'abs' });
  // The positive half is a half-normal with σ = 1. Symmetric int8: step 2T/254 ≈ Banner's 8 bits;
  // asymmetric uint8 on x ≥ 0: step T/255 ≈ 2T/2^9, Banner's 9 bits, α* = 4.2σ.
  near(aciqRange(stats, { type: 'int8', symmetric: true }).max, 3.92, 0.03, 'int8');
  near(aciqRange(stats, { type: 'uint8', symmetric: false }).max, 4.2, 0.03, 'uint8');
});
