// float32 -> float16 / bfloat16 against ONNX Runtime's Cast (opset 13), bit for bit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { float32ArrayToBfloat16 } from '../../src/tensor/bfloat16.js';
import { float32ArrayToFloat16 } from '../../src/tensor/float16.js';
import { createRng } from '../../src/tensor/random.js';
import { runOneNode } from '../helpers/one-node-model.js';

/** Random bit patterns (every exponent, NaNs included), values near half ties, and edge cases. */
function castInputs(): Float32Array {
  const rng = createRng(20240521);
  const n = 200_000;
  const bits = new Uint32Array(n + 64);
  for (let i = 0; i < n / 2; i++) bits[i] = rng.nextUint32();
  const f = new Float32Array(bits.buffer);
  // Exact midpoints between neighbouring halves (and bfloat16s), plus or minus one float32 ulp.
  for (let i = n / 2; i < n; i += 3) {
    const r = rng.nextUint32();
    f[i] = midpointOfHalves(r & 0x7bfe) * (r & 0x8000 ? -1 : 1);
    bits[i + 1] = bits[i] + 1;
    bits[i + 2] = bits[i] - 1;
  }
  const edges = [
    0,
    -0,
    1,
    -1,
    65504,
    65519,
    65520,
    65536,
    -65520,
    2 ** -14,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -25,
    2 ** -26,
    1e-40,
    -1e-45,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
    1 / 3,
    0.1,
    2049,
    2051,
  ];
  f.set(edges, n);
  return f;
}

function midpointOfHalves(h: number): number {
  const value = (bitsOfHalf: number) => {
    const exp = (bitsOfHalf >> 10) & 0x1f;
    const mant = bitsOfHalf & 0x3ff;
    return exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15);
  };
  return (value(h) + value(h + 1)) / 2;
}

async function ortCast(x: Float32Array, to: 'float16' | 'bfloat16'): Promise<ort.Tensor> {
  const shape = [x.length];
  const result = await runOneNode(
    {
      opType: 'Cast',
      opset: 13,
      inputs: [{ name: 'x', type: 'float32', shape }],
      // onnxruntime-node returns float16 as raw Uint16Array bits but cannot return bfloat16: read it back
      // through an exact Cast to float32.
      outputs: [{ name: 'y', type: to, shape, readAs: to === 'bfloat16' ? 'float32' : undefined }],
      attributes: { to: to === 'float16' ? 10 : 16 },
    },
    { x: new ort.Tensor('float32', x, shape) },
  );
  return result.y;
}

test('float32 -> float16 equals ONNX Runtime Cast bit for bit (NaN payloads included)', async () => {
  const x = castInputs();
  const expected = (await ortCast(x, 'float16')).data as Uint16Array;
  const actual = float32ArrayToFloat16(x);
  const inputBits = new Uint32Array(x.buffer);
  for (let i = 0; i < x.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(
        `0x${inputBits[i].toString(16)} (${x[i]}): 0x${actual[i].toString(16)}, ORT 0x${expected[i].toString(16)}`,
      );
    }
  }
});

test('float32 -> bfloat16 equals ONNX Runtime Cast bit for bit (NaN as NaN)', async () => {
  const x = castInputs();
  const expected = new Uint32Array(((await ortCast(x, 'bfloat16')).data as Float32Array).buffer);
  const actual = float32ArrayToBfloat16(x);
  const inputBits = new Uint32Array(x.buffer);
  for (let i = 0; i < x.length; i++) {
    const isNaN = Number.isNaN(x[i]);
    // The read-back Cast may canonicalise NaN payloads, so only NaN-ness is comparable there.
    const same = isNaN ? (expected[i] & 0x7fffffff) > 0x7f800000 : actual[i] * 65536 === expected[i];
    if (!same) {
      assert.fail(
        `0x${inputBits[i].toString(16)} (${x[i]}): 0x${actual[i].toString(16)}, ORT 0x${expected[i].toString(16)}`,
      );
    }
  }
});
