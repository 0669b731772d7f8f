import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  decodeMiniFloat,
  encodeFloat8,
  float32ToFloat8,
  type MiniFloatDType,
  miniFloatToFloat32,
} from '../../src/tensor/float8.js';
import { createRng } from '../../src/tensor/random.js';
import { runOneNode } from '../helpers/one-node-model.js';

test('decoding: values from the ONNX float8 / float4 tables', () => {
  const cases: Array<[MiniFloatDType, number, number]> = [
    ['float8e4m3fn', 0x00, 0],
    ['float8e4m3fn', 0x80, -0],
    ['float8e4m3fn', 0x01, 2 ** -9],
    ['float8e4m3fn', 0x07, 7 * 2 ** -9],
    ['float8e4m3fn', 0x08, 2 ** -6],
    ['float8e4m3fn', 0x38, 1],
    ['float8e4m3fn', 0x3c, 1.5],
    ['float8e4m3fn', 0x7e, 448],
    ['float8e4m3fn', 0xfe, -448],
    ['float8e4m3fnuz', 0x01, 2 ** -10],
    ['float8e4m3fnuz', 0x40, 1],
    ['float8e4m3fnuz', 0x7f, 240],
    ['float8e4m3fnuz', 0xff, -240],
    ['float8e5m2', 0x01, 2 ** -16],
    ['float8e5m2', 0x04, 2 ** -14],
    ['float8e5m2', 0x3c, 1],
    ['float8e5m2', 0x3d, 1.25],
    ['float8e5m2', 0x7b, 57344],
    ['float8e5m2', 0x7c, Number.POSITIVE_INFINITY],
    ['float8e5m2', 0xfc, Number.NEGATIVE_INFINITY],
    ['float8e5m2fnuz', 0x01, 2 ** -17],
    ['float8e5m2fnuz', 0x40, 1],
    ['float8e5m2fnuz', 0x7f, 57344],
    ['float8e8m0', 0x00, 2 ** -127],
    ['float8e8m0', 0x7f, 1],
    ['float8e8m0', 0x80, 2],
    ['float8e8m0', 0xfe, 2 ** 127],
    ['float4e2m1', 0x1, 0.5],
    ['float4e2m1', 0x7, 6],
    ['float4e2m1', 0x8, -0],
    ['float4e2m1', 0xd, -3],
  ];
  for (const [dtype, code, value] of cases) {
    assert.ok(
      Object.is(miniFloatToFloat32(dtype, code), value),
      `${dtype} 0x${code.toString(16)} = ${value}`,
    );
  }
  const float4 = decodeMiniFloat(
    'float4e2m1',
    new Uint8Array(8).map((_, i) => i),
  );
  assert.deepEqual(Array.from(float4), [0, 0.5, 1, 1.5, 2, 3, 4, 6]);
});

test('decoding: NaN codes are exactly the ones the spec names', () => {
  const nanCodes = (dtype: MiniFloatDType) =>
    Array.from(
      decodeMiniFloat(
        dtype,
        new Uint8Array(256).map((_, i) => i),
      ),
    )
      .map((v, code) => (Number.isNaN(v) ? code : -1))
      .filter((c) => c >= 0);
  assert.deepEqual(nanCodes('float8e4m3fn'), [0x7f, 0xff]);
  assert.deepEqual(nanCodes('float8e4m3fnuz'), [0x80]);
  assert.deepEqual(nanCodes('float8e5m2'), [0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff]);
  assert.deepEqual(nanCodes('float8e5m2fnuz'), [0x80]);
  assert.deepEqual(nanCodes('float8e8m0'), [0xff]);
});

test('decoding: positive codes increase strictly, negative codes mirror them', () => {
  for (const dtype of ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz'] as const) {
    const v = decodeMiniFloat(
      dtype,
      new Uint8Array(256).map((_, i) => i),
    );
    for (let c = 1; c < 0x80; c++) {
      if (Number.isNaN(v[c])) continue;
      assert.ok(v[c] > v[c - 1], `${dtype} 0x${c.toString(16)}`);
      if (!Number.isNaN(v[c | 0x80])) assert.equal(v[c | 0x80], -v[c]);
    }
  }
  assert.throws(() => miniFloatToFloat32('float4e2m1', 16), /outside \[0, 15\]/);
});

test('encoding: round to nearest even, saturating as Cast(saturate=1)', () => {
  const cases: Array<['float8e4m3fn' | 'float8e5m2', number, number]> = [
    ['float8e4m3fn', 0, 0x00],
    ['float8e4m3fn', -0, 0x80],
    ['float8e4m3fn', 1, 0x38],
    ['float8e4m3fn', 1.0625, 0x38], // midpoint of 1 and 1.125: even
    ['float8e4m3fn', 1.1875, 0x3a], // midpoint of 1.125 and 1.25: even
    ['float8e4m3fn', 2 ** -9, 0x01],
    ['float8e4m3fn', 2 ** -10, 0x00], // half the smallest subnormal: even
    ['float8e4m3fn', 3 * 2 ** -10, 0x02],
    ['float8e4m3fn', 0.0146484375, 0x08], // 7.5 subnormal steps: carries into the smallest normal
    ['float8e4m3fn', 448, 0x7e],
    ['float8e4m3fn', 464, 0x7e],
    ['float8e4m3fn', 1e6, 0x7e],
    ['float8e4m3fn', -1e6, 0xfe],
    ['float8e4m3fn', Number.POSITIVE_INFINITY, 0x7e],
    ['float8e4m3fn', Number.NEGATIVE_INFINITY, 0xfe],
    ['float8e4m3fn', 1e-30, 0x00],
    ['float8e5m2', 1, 0x3c],
    ['float8e5m2', 1.125, 0x3c],
    ['float8e5m2', 1.375, 0x3e],
    ['float8e5m2', 2 ** -16, 0x01],
    ['float8e5m2', 57344, 0x7b],
    ['float8e5m2', 61440, 0x7b],
    ['float8e5m2', Number.POSITIVE_INFINITY, 0x7b],
    ['float8e5m2', Number.NEGATIVE_INFINITY, 0xfb],
  ];
  for (const [dtype, x, code] of cases) {
    assert.equal(float32ToFloat8(dtype, x), code, `${dtype}(${x}) = 0x${code.toString(16)}`);
  }
  assert.ok(Number.isNaN(miniFloatToFloat32('float8e4m3fn', float32ToFloat8('float8e4m3fn', Number.NaN))));
  assert.ok(Number.isNaN(miniFloatToFloat32('float8e5m2', float32ToFloat8('float8e5m2', Number.NaN))));
});

test('encoding equals ONNX Runtime Cast (opset 21, saturate=1) after decoding', async () => {
  const rng = createRng(7);
  const n = 50_000;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Magnitudes from 2^-20 to 2^18 cover subnormals, normals and saturation of both formats.
    const magnitude = 2 ** (rng.nextFloat() * 38 - 20);
    x[i] = (rng.nextFloat() < 0.5 ? -1 : 1) * magnitude;
  }
  // Exact midpoints between neighbouring codes, where only ties-to-even decides.
  for (let i = 0; i < 2000; i++) {
    const dtype = i % 2 ? 'float8e4m3fn' : 'float8e5m2';
    const code = rng.nextUint32() & 0x7a;
    x[i] = (miniFloatToFloat32(dtype, code) + miniFloatToFloat32(dtype, code + 1)) / 2;
  }
  x.set(
    [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 448, 464, 480, 57344, 61440],
    n - 10,
  );
  for (const [dtype, onnxType] of [
    ['float8e4m3fn', 17],
    ['float8e5m2', 19],
  ] as const) {
    const result = await runOneNode(
      {
        opType: 'Cast',
        opset: 21,
        inputs: [{ name: 'x', type: 'float32', shape: [n] }],
        outputs: [{ name: 'y', type: dtype, shape: [n], readAs: 'float32' }],
        attributes: { to: onnxType, saturate: 1 },
      },
      { x: new ort.Tensor('float32', x, [n]) },
    );
    const expected = result.y.data as Float32Array;
    const actual = decodeMiniFloat(dtype, encodeFloat8(dtype, x));
    for (let i = 0; i < n; i++) {
      const same =
        Object.is(actual[i], expected[i]) || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]));
      if (!same) assert.fail(`${dtype}(${x[i]}): ${actual[i]}, ORT ${expected[i]}`);
    }
  }
});
