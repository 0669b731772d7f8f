import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roundHalfEven, roundStochastic } from '../../src/quant/rounding.js';
import { createRng } from '../../src/tensor/random.js';

test('round half to even', () => {
  const cases: Array<[number, number]> = [
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [-0.5, -0],
    [-1.5, -2],
    [-2.5, -2],
    [0.49999999999999994, 0],
    [2.5000000000000004, 3],
    [-2.4999999999999996, -2],
    [1.4, 1],
    [-1.6, -2],
    [127.5, 128],
    [-128.5, -128],
    [2 ** 31 + 0.5, 2 ** 31],
    [2 ** 52 + 1, 2 ** 52 + 1],
  ];
  for (const [x, r] of cases)
    assert.ok(Object.is(roundHalfEven(x), r), `${x} -> ${r}, got ${roundHalfEven(x)}`);
});

test('stochastic rounding is reproducible for a seed', () => {
  const draws = (seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: 64 }, (_, i) => roundStochastic(i / 7 - 3.3, rng));
  };
  assert.deepEqual(draws(5), draws(5));
  assert.notDeepEqual(draws(5), draws(6));
});

test('stochastic rounding returns only floor or ceil, and integers unchanged', () => {
  const rng = createRng(11);
  for (let i = 0; i < 10_000; i++) {
    const x = (rng.nextFloat() - 0.5) * 1000;
    const r = roundStochastic(x, rng);
    assert.ok(r === Math.floor(x) || r === Math.ceil(x), `${x} -> ${r}`);
  }
  for (const k of [-3, 0, 5, 2 ** 40]) assert.equal(roundStochastic(k, rng), k);
});

test('stochastic rounding is unbiased: the mean over many draws approaches x', () => {
  const rng = createRng(2024);
  const n = 200_000;
  for (const x of [0.1, 2.5, -7.75, 0.999, -0.3]) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += roundStochastic(x, rng);
    const frac = x - Math.floor(x);
    // The draw is Bernoulli(frac) on top of floor(x): 6 standard errors of the mean.
    const bound = 6 * Math.sqrt((frac * (1 - frac)) / n);
    assert.ok(Math.abs(sum / n - x) < bound, `x = ${x}: mean ${sum / n}, bound ${bound}`);
  }
});
