// TWN's starting scale, worked by hand: Δ = 0.7·mean|w| per channel, α = mean of |w| above Δ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/onnx/tensor.js';
import { ternaryParams } from '../../src/training/fake-quant/ternary.js';

test('ternary scales per output channel', () => {
  // Channel 0: mean|w| = 0.55, Δ = 0.385, above it 1 and −1 → α = 1.
  // Channel 1: mean|w| = 0.3, Δ = 0.21, above it 0.4, −0.4, 0.3 → α = 0.3667.
  const w = Tensor.fromArray('w', 'float32', [2, 4], Float32Array.of(1, -1, 0.1, -0.1, 0.4, -0.4, 0.3, 0.1));
  const p = ternaryParams(w, 0);
  assert.deepEqual(p.shape, [2]);
  assert.deepEqual(p.codeRange, { qmin: -1, qmax: 1 });
  assert.ok(Math.abs(p.scale[0] - 1) < 1e-6);
  assert.ok(Math.abs(p.scale[1] - 1.1 / 3) < 1e-6);
  assert.deepEqual([...p.zeroPoint], [0, 0]);
  const whole = ternaryParams(w, undefined);
  // mean|w| = 0.425, Δ = 0.2975: above it 1, −1, 0.4, −0.4, 0.3 → α = 0.62.
  assert.ok(Math.abs(whole.scale[0] - 0.62) < 1e-6);
});
