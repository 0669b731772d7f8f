/** The pure parts of sensitivity and mixed precision, against hand-computed values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupLayers } from '../../src/analysis/layer-groups.js';
import { SoftmaxDivergence } from '../../src/analysis/softmax-kl.js';
import type { Sensitivity } from '../../src/analysis/sensitivity.js';
import { Node } from '../../src/onnx/node.js';
import { searchKeptFloat } from '../../src/pipeline/accuracy-search.js';
import { chooseFourBit } from '../../src/pipeline/bits-budget.js';

describe('KL divergence of softmax outputs', () => {
  it('equals Σ p·log(p/q) computed by hand, from logits and from probabilities', () => {
    const ref = Float32Array.of(2, 1, 0, 0, 0, 0);
    const cand = Float32Array.of(1, 1, 1, 0, 1, 0);
    const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((s, u) => s + Math.exp(u), 0));
    const kl = (p: number[], q: number[]) => p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]), 0);
    const expected =
      (kl(softmax([2, 1, 0]), softmax([1, 1, 1])) + kl(softmax([0, 0, 0]), softmax([0, 1, 0]))) / 2;
    const fromLogits = new SoftmaxDivergence(3, false);
    fromLogits.add(ref, cand);
    assert.ok(Math.abs(fromLogits.result() - expected) < 1e-6, `${fromLogits.result()} vs ${expected}`);
    const fromProbs = new SoftmaxDivergence(3, true);
    fromProbs.add(
      Float32Array.from([...softmax([2, 1, 0]), ...softmax([0, 0, 0])]),
      Float32Array.from([...softmax([1, 1, 1]), ...softmax([0, 1, 0])]),
    );
    assert.ok(Math.abs(fromProbs.result() - expected) < 1e-6);
    const same = new SoftmaxDivergence(3, false);
    same.add(ref, ref);
    assert.equal(same.result(), 0);
  });
});

describe('accuracy search', () => {
  it('finds the smallest count within the bound by doubling then bisecting', async () => {
    // 40 layers; each of the 13 most sensitive costs 1 point, the rest nothing: 13 must go float.
    const reference = 0.9;
    const tried: number[] = [];
    const accuracyAt = async (k: number) => {
      tried.push(k);
      return reference - Math.max(0, 13 - k) / 100;
    };
    const r = await searchKeptFloat(40, accuracyAt, reference, 0.3);
    assert.equal(r.keptFloat, 13);
    assert.deepEqual(tried, [0, 1, 2, 4, 8, 16, 12, 14, 13]);
    assert.deepEqual(r.steps.at(-1), { keptFloat: 13, accuracy: 0.9, drop: 0 });
  });

  it('stops at 0 when the full model is within the bound, and reports all-float when nothing else is', async () => {
    assert.equal((await searchKeptFloat(5, async () => 0.9, 0.9, 0.5)).keptFloat, 0);
    const never = await searchKeptFloat(5, async () => 0.5, 0.9, 0.5);
    assert.equal(never.keptFloat, 5);
    assert.deepEqual(
      never.steps.map((s) => s.keptFloat),
      [0, 1, 2, 4],
    );
  });
});

describe('bits budget', () => {
  const unit = (name: string, weights: number, kl: number): Sensitivity => ({
    name,
    layers: [name],
    opTypes: ['Conv'],
    weights,
    metrics: { klDivergence: kl, sqnrDb: 30 },
  });

  it('sends layers to 4 bits cheapest per bit saved first, until the average meets the budget', () => {
    const layers = [unit('a', 1000, 0.01), unit('b', 3000, 0.01), unit('c', 1000, 0.01)];
    // Extra KL at 4 bits: a 0.04, b 0.06, c 0.002 → per bit: a 1e-5, b 5e-6, c 5e-7.
    const at4 = [
      { klDivergence: 0.05, sqnrDb: 20 },
      { klDivergence: 0.07, sqnrDb: 20 },
      { klDivergence: 0.012, sqnrDb: 20 },
    ];
    const r = chooseFourBit(layers, at4, 6);
    // 5000 weights at 8 bits = 40000; budget 30000: c (−4000) then b (−12000) → 24000, 4.8 bits.
    assert.deepEqual(
      r.costs.map((c) => c.fourBit),
      [false, true, true],
    );
    assert.equal(r.averageBits, 4.8);
    assert.ok(Math.abs(r.costs[0].perBit - 0.04 / 4000) < 1e-12);
    assert.equal(chooseFourBit(layers, at4, 8).averageBits, 8);
  });
});

describe('layer groups', () => {
  it('groups layers by the first segments of their names', () => {
    const n = (name: string) => new Node('MatMul', ['a', 'b'], [`${name}_out`], { name });
    const layers = [
      '/enc/layer.0/q/MatMul',
      '/enc/layer.0/k/MatMul',
      '/enc/layer.1/q/MatMul',
      '/head/MatMul',
    ].map(n);
    assert.deepEqual(
      groupLayers(layers, 2).map((g) => [g.name, g.nodes.length]),
      [
        ['/enc/layer.0', 2],
        ['/enc/layer.1', 1],
        ['/head/MatMul', 1],
      ],
    );
    assert.equal(groupLayers(layers).length, 4);
  });
});
