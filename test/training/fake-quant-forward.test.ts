// FakeQuant (a model-local ONNX function) run by ONNX Runtime, native and wasm, against quantkit's
// quantize → dequantize (itself checked bit for bit against QuantizeLinear/DequantizeLinear).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Node } from '../../src/onnx/node.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { dequantize } from '../../src/quant/dequantize.js';
import { computeQParams, type QuantParams } from '../../src/quant/qparams.js';
import { quantize } from '../../src/quant/quantize.js';
import { typeRange } from '../../src/quant/types.js';
import { Runner } from '../../src/runtime/session.js';
import { defineFakeQuant, FAKE_QUANT_DOMAIN, FAKE_QUANT_OP } from '../../src/training/fake-quant/function.js';
import { randomInput } from '../helpers/tiny-models.js';

function fakeQuantModel(shape: number[], paramShape: number[], qmin: number, qmax: number) {
  const g = makeGraph({
    nodes: [
      new Node(FAKE_QUANT_OP, ['x', 's', 'z'], ['y'], {
        domain: FAKE_QUANT_DOMAIN,
        attributes: [Attribute.floats('qmin', [qmin]), Attribute.floats('qmax', [qmax])],
      }),
    ],
    inputs: [
      makeValueInfo('x', 'float32', shape),
      makeValueInfo('s', 'float32', paramShape),
      makeValueInfo('z', 'float32', paramShape),
    ],
    outputs: [makeValueInfo('y', 'float32', shape)],
  });
  const m = makeModel(g, { opsets: { '': 17 } });
  defineFakeQuant(m);
  return m;
}

async function runFakeQuant(
  x: Float32Array,
  shape: number[],
  p: QuantParams,
  paramShape: number[],
  backend: 'native' | 'wasm',
): Promise<Float32Array> {
  const { qmin, qmax } = typeRange(p.type);
  const runner = await Runner.create(fakeQuantModel(shape, paramShape, qmin, qmax), { backend });
  try {
    const out = await runner.run({
      x: { dtype: 'float32', shape, data: x },
      s: { dtype: 'float32', shape: paramShape, data: p.scale },
      z: { dtype: 'float32', shape: paramShape, data: Float32Array.from(p.zeroPoint) },
    });
    return out.y.data as Float32Array;
  } finally {
    await runner.release();
  }
}

for (const backend of ['native', 'wasm'] as const) {
  test(`FakeQuant equals dequantize(quantize(x)) per tensor, uint8 asymmetric (${backend})`, async () => {
    const shape = [4, 50];
    const x = randomInput(shape, 1).map((v) => v * 3);
    // A range narrower than the data, so clipping is exercised too.
    const p = computeQParams(
      'x',
      x.map((v) => v * 0.6),
      shape,
      { kind: 'tensor' },
      { type: 'uint8' },
    );
    const expected = dequantize(quantize(x, shape, p), shape, p);
    assert.deepEqual([...(await runFakeQuant(x, shape, p, [], backend))], [...expected]);
  });

  test(`FakeQuant equals dequantize(quantize(x)) per channel, int4 symmetric (${backend})`, async () => {
    const shape = [3, 2, 3, 3];
    const x = randomInput(shape, 2);
    const p = computeQParams('w', x, shape, { kind: 'axis', axis: 0 }, { type: 'int4', symmetric: true });
    const expected = dequantize(quantize(x, shape, p), shape, p);
    const actual = await runFakeQuant(x, shape, p, [3, 1, 1, 1], backend);
    assert.deepEqual([...actual], [...expected]);
  });
}
