// FakeQuant's gradients, computed by ONNX Runtime from the backward graph the autodiff engine builds
// with the registered rule, against two references computed here in float64:
// - central finite differences of the straight-through surrogate ỹ = (clamp(x/s + z, qmin, qmax) − z)·s
//   (the function with rounding removed): STE's ∂/∂x and PACT's ∂/∂s are exactly its derivatives;
// - LSQ's formula (Esser et al. 2019): ∂ŷ/∂s = round(x/s) − x/s inside, qmin − z / qmax − z clipped,
//   times g = 1/√(N·Qp).
// The loss is Σ c·y with random c, so ∂L/∂y = c. Inputs avoid rounding ties, and the half step just
// outside each end of the range, where "clipped" depends on whether the code is taken before rounding
// (the surrogate) or after (the rule, matching what the forward pass clips).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGradientModel } from '../../src/autodiff/gradient-model.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';
import { createRng } from '../../src/tensor/random.js';
import { defineFakeQuant, FAKE_QUANT_DOMAIN, FAKE_QUANT_OP } from '../../src/training/fake-quant/function.js';
import { registerFakeQuantGradient, type ScaleLearning } from '../../src/training/fake-quant/gradient.js';

interface Case {
  shape: number[];
  /** Broadcast shape of s and z. */
  paramShape: number[];
  scale: number[];
  zeroPoint: number[];
  qmin: number;
  qmax: number;
}

const G = 0.0625;

function channelOf(c: Case, i: number): number {
  if (c.paramShape.length === 0) return 0;
  const inner = c.shape.slice(1).reduce((a, b) => a * b, 1);
  return Math.floor(i / inner) % c.shape[0];
}

/** x values spread over the range and beyond, none within 0.05·s of a tie or an edge. */
function inputs(c: Case, seed: number): Float32Array {
  const rng = createRng(seed);
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = channelOf(c, i);
    const span = c.qmax - c.qmin + 4;
    let code = c.qmin - 2 + rng.nextFloat() * span;
    const frac = code - Math.floor(code);
    if (Math.abs(frac - 0.5) < 0.05) code += 0.2;
    if (Math.abs(frac) < 0.05 || Math.abs(frac - 1) < 0.05) code += 0.2;
    // Within half a step outside the range the rounded code is still inside (the rule lets the
    // gradient through, as PyTorch's fake_quantize does) while the surrogate is clipped.
    if (code > c.qmin - 0.5 && code < c.qmin) code -= 0.6;
    if (code > c.qmax && code < c.qmax + 0.5) code += 0.6;
    x[i] = (code - c.zeroPoint[k]) * c.scale[k];
  }
  return x;
}

async function gradients(c: Case, learn: ScaleLearning, x: Float32Array, weights: Float32Array) {
  const g = makeGraph({
    nodes: [
      new Node(FAKE_QUANT_OP, ['x', 's', 'z'], ['y'], {
        domain: FAKE_QUANT_DOMAIN,
        attributes: [
          Attribute.floats('qmin', [c.qmin]),
          Attribute.floats('qmax', [c.qmax]),
          Attribute.string('learn', learn),
          Attribute.float('grad_scale', G),
        ],
      }),
      new Node('Mul', ['y', 'c'], ['yc']),
      new Node('ReduceSum', ['yc'], ['loss'], { attributes: [Attribute.int('keepdims', 0)] }),
    ],
    inputs: [],
    outputs: [makeValueInfo('loss', 'float32', [])],
    initializers: [
      Tensor.fromArray('x', 'float32', c.shape, x),
      Tensor.fromArray('s', 'float32', c.paramShape, Float32Array.from(c.scale)),
      Tensor.fromArray('z', 'float32', c.paramShape, Float32Array.from(c.zeroPoint)),
      Tensor.fromArray('c', 'float32', c.shape, weights),
    ],
  });
  const model = makeModel(g, { opsets: { '': 17 } });
  defineFakeQuant(model);
  registerFakeQuantGradient();
  const built = buildGradientModel(model, { loss: 'loss', parameters: ['x', 's'] });
  const runner = await Runner.create(built.model);
  try {
    const out = await runner.run({
      x: { dtype: 'float32', shape: c.shape, data: x },
      s: { dtype: 'float32', shape: c.paramShape, data: Float32Array.from(c.scale) },
    });
    return {
      gx: out[built.gradients.get('x')!].data as Float32Array,
      gs: out[built.gradients.get('s')!].data as Float32Array,
    };
  } finally {
    await runner.release();
  }
}

/** Σ c·ỹ in float64 for scales `scale`. */
function surrogateLoss(c: Case, x: ArrayLike<number>, w: Float32Array, scale: number[]): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const k = channelOf(c, i);
    const v = Math.min(Math.max(x[i] / scale[k] + c.zeroPoint[k], c.qmin), c.qmax);
    sum += w[i] * (v - c.zeroPoint[k]) * scale[k];
  }
  return sum;
}

function finiteDifferences(c: Case, x: Float32Array, w: Float32Array) {
  const h = 1e-6;
  const gx = Array.from(x, (_, i) => {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[i] += h;
    minus[i] -= h;
    return (surrogateLoss(c, plus, w, c.scale) - surrogateLoss(c, minus, w, c.scale)) / (2 * h);
  });
  const gs = c.scale.map((_, k) => {
    const plus = [...c.scale];
    const minus = [...c.scale];
    plus[k] += h;
    minus[k] -= h;
    return (surrogateLoss(c, x, w, plus) - surrogateLoss(c, x, w, minus)) / (2 * h);
  });
  return { gx, gs };
}

function lsqFormula(c: Case, x: Float32Array, w: Float32Array): number[] {
  const gs = c.scale.map(() => 0);
  for (let i = 0; i < x.length; i++) {
    const k = channelOf(c, i);
    const v = x[i] / c.scale[k];
    const r = Math.round(v) + c.zeroPoint[k];
    const slope =
      r < c.qmin ? c.qmin - c.zeroPoint[k] : r > c.qmax ? c.qmax - c.zeroPoint[k] : Math.round(v) - v;
    gs[k] += w[i] * slope;
  }
  return gs.map((v) => v * G);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const tol = 1e-4 * Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const CASES: Record<string, Case> = {
  'per tensor, uint8 with a zero point': {
    shape: [6, 20],
    paramShape: [],
    scale: [0.05],
    zeroPoint: [7],
    qmin: 0,
    qmax: 255,
  },
  'per channel, int4 symmetric (Conv weight layout)': {
    shape: [3, 2, 3, 3],
    paramShape: [3, 1, 1, 1],
    scale: [0.1, 0.03, 0.2],
    zeroPoint: [0, 0, 0],
    qmin: -8,
    qmax: 7,
  },
};

for (const [name, c] of Object.entries(CASES)) {
  const x = inputs(c, 3);
  const rng = createRng(4);
  const w = Float32Array.from(x, () => rng.nextFloat() * 2 - 1);
  const fd = finiteDifferences(c, x, w);

  test(`STE: ∂/∂x passes inside the range, 0 outside (${name})`, async () => {
    const { gx } = await gradients(c, 'none', x, w);
    assertClose(gx, fd.gx, 'dL/dx');
    assert.ok(fd.gx.some((v) => v === 0) && fd.gx.some((v) => v !== 0), 'both regions are exercised');
  });

  test(`PACT: ∂/∂s from the clipped values only (${name})`, async () => {
    const { gx, gs } = await gradients(c, 'pact', x, w);
    assertClose(gx, fd.gx, 'dL/dx');
    assertClose(gs, fd.gs, 'dL/ds');
  });

  test(`LSQ: ∂/∂s = g·Σ c·(round(x/s) − x/s inside, qmin − z / qmax − z clipped) (${name})`, async () => {
    const { gs } = await gradients(c, 'lsq', x, w);
    assertClose(gs, lsqFormula(c, x, w), 'dL/ds');
  });
}
