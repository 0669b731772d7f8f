import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lmLayout, PerplexityAccumulator } from '../../src/evaluate/perplexity.js';

/** Logits [rows, steps, vocab] filled by `f(row, step, token)`. */
function logitsOf(
  rows: number,
  steps: number,
  vocab: number,
  f: (r: number, t: number, v: number) => number,
) {
  const out = new Float32Array(rows * steps * vocab);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < steps; t++)
      for (let v = 0; v < vocab; v++) out[(r * steps + t) * vocab + v] = f(r, t, v);
  }
  return out;
}

function idsOf(rows: number, steps: number, f: (r: number, t: number) => number): BigInt64Array {
  const out = new BigInt64Array(rows * steps);
  for (let r = 0; r < rows; r++) for (let t = 0; t < steps; t++) out[r * steps + t] = BigInt(f(r, t));
  return out;
}

function run(
  ids: BigInt64Array,
  logits: Float32Array,
  rows: number,
  steps: number,
  vocab: number,
  ref?: Float32Array,
) {
  const acc = new PerplexityAccumulator({ reference: ref !== undefined });
  acc.add(ids, logits, lmLayout([rows, steps, vocab], [rows, steps], 'logits'), ref);
  return acc.result();
}

describe('perplexity', () => {
  it('uniform logits: perplexity is the vocabulary size exactly, at any offset', () => {
    const [rows, steps, vocab] = [3, 9, 7];
    const ids = idsOf(rows, steps, (r, t) => (r * 5 + t * 3) % vocab);
    for (const level of [0, -3.5, 1e4]) {
      const m = run(
        ids,
        logitsOf(rows, steps, vocab, () => level),
        rows,
        steps,
        vocab,
      );
      assert.equal(m.tokens, rows * (steps - 1));
      assert.ok(Math.abs(m.perplexity - vocab) < 1e-12, `${level}: ${m.perplexity}`);
      assert.ok(Math.abs(m.nll - Math.log(vocab)) < 1e-14);
    }
  });

  it('a model that puts all its mass on the right next token: perplexity 1, accuracy 1', () => {
    const [rows, steps, vocab] = [2, 16, 11];
    const ids = idsOf(rows, steps, (r, t) => (r + t * t) % vocab);
    const logits = logitsOf(rows, steps, vocab, (r, t, v) =>
      t + 1 < steps && v === Number(ids[r * steps + t + 1]) ? 200 : -200,
    );
    const m = run(ids, logits, rows, steps, vocab);
    assert.equal(m.perplexity, 1);
    assert.equal(m.nll, 0);
    assert.equal(m.accuracy, 1);
  });

  it('hand-computed: log-sum-exp minus the target logit, the last position never read', () => {
    // One window of ids [0, 2, 1], V = 3. Position 0 predicts 2 from [1, 2, 3]; position 1 predicts 1
    // from [0, 0, ln 3]; position 2 predicts past the window (NaN there must not matter).
    const ids = BigInt64Array.of(0n, 2n, 1n);
    const logits = Float32Array.of(1, 2, 3, 0, 0, Math.log(3), NaN, NaN, NaN);
    const nll0 = Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3;
    const nll1 = Math.log(5) - 0;
    const m = run(ids, logits, 1, 3, 3);
    assert.equal(m.tokens, 2);
    assert.ok(Math.abs(m.nll - (nll0 + nll1) / 2) < 1e-7, `${m.nll}`);
    assert.ok(Math.abs(m.perplexity - Math.exp((nll0 + nll1) / 2)) < 1e-6);
    // Top-1: token 2 at position 0 (right), token 2 at position 1 (the target is 1: wrong).
    assert.equal(m.accuracy, 0.5);
  });

  it('large logits stay finite (log-sum-exp subtracts the maximum)', () => {
    const ids = BigInt64Array.of(0n, 1n);
    const small = run(ids, Float32Array.of(0, 1, 0.5, 0, 0, 0), 1, 2, 3);
    const shifted = run(ids, Float32Array.of(3e4, 3e4 + 1, 3e4 + 0.5, 0, 0, 0), 1, 2, 3);
    assert.ok(Number.isFinite(shifted.perplexity));
    assert.ok(Math.abs(shifted.nll - small.nll) < 1e-3, `${shifted.nll} vs ${small.nll}`);
  });

  it('streams: batches of any size add up to the figures of the whole', () => {
    const [rows, steps, vocab] = [10, 12, 5];
    const ids = idsOf(rows, steps, (r, t) => (r * 7 + t * t) % vocab);
    const logits = logitsOf(rows, steps, vocab, (r, t, v) => Math.sin(r * 1.3 + t * 0.7 + v * 2.1) * 3);
    const whole = run(ids, logits, rows, steps, vocab);
    const acc = new PerplexityAccumulator({ reference: false });
    for (const [start, end] of [
      [0, 3],
      [3, 4],
      [4, 10],
    ]) {
      const n = end - start;
      acc.add(
        ids.subarray(start * steps, end * steps),
        logits.subarray(start * steps * vocab, end * steps * vocab),
        lmLayout([n, steps, vocab], [n, steps], 'logits'),
      );
    }
    const parts = acc.result();
    assert.equal(parts.tokens, whole.tokens);
    assert.ok(Math.abs(parts.nll - whole.nll) < 1e-12);
    assert.equal(parts.accuracy, whole.accuracy);
  });

  it('against a reference: its perplexity and the next-token top-1 agreement', () => {
    const [rows, steps, vocab] = [1, 5, 4];
    const ids = idsOf(rows, steps, (_, t) => t % vocab);
    const model = logitsOf(rows, steps, vocab, (_, t, v) => (v === t % vocab ? 1 : 0));
    const self = run(ids, model, rows, steps, vocab, model);
    assert.equal(self.agreement, 1);
    const { tokens, nll, perplexity, accuracy } = self;
    assert.deepEqual(self.reference, { tokens, nll, perplexity, accuracy });
    // The reference's top-1 differs at positions 1 and 3 of the 4 scored ones.
    const other = logitsOf(rows, steps, vocab, (_, t, v) =>
      v === (t % 2 === 1 ? (t + 1) % vocab : t % vocab) ? 1 : 0,
    );
    const m = run(ids, model, rows, steps, vocab, other);
    assert.equal(m.agreement, 0.5);
    assert.ok(m.reference!.perplexity !== m.perplexity);
  });

  it('a NaN logit at a scored position makes perplexity NaN', () => {
    const m = run(BigInt64Array.of(0n, 1n), Float32Array.of(0, NaN, 0, 0), 1, 2, 2);
    assert.ok(Number.isNaN(m.perplexity));
  });

  it('refuses ids outside the vocabulary, logits of the wrong shape and empty data', () => {
    assert.throws(() => run(BigInt64Array.of(0n, 3n), new Float32Array(6), 1, 2, 3), /token id 3 is outside/);
    assert.throws(() => lmLayout([2, 8, 10], [2, 7], "output 'logits'"), /needs logits \[2, 7, vocabulary\]/);
    assert.throws(() => lmLayout([2, 10], [2, 7], "output 'logits'"), /has shape \[2, 10\]/);
    assert.throws(() => new PerplexityAccumulator({ reference: false }).result(), /no token windows/);
    const acc = new PerplexityAccumulator({ reference: false });
    acc.add(BigInt64Array.of(1n), new Float32Array(3), lmLayout([1, 1, 3], [1, 1], 'logits'));
    assert.throws(() => acc.result(), /at least two per window/);
  });
});
