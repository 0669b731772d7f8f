/**
 * Per-layer error analysis: SQNR and cosine of a hand-built QDQ model checked against values computed
 * here by hand; the fragile layer found in QDQ and in operator form; the probed model's output error
 * equal to what evaluate() measures on the unprobed model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debugQuantized } from '../../src/analysis/debug.js';
import { recordBatches } from '../../src/data/batches.js';
import { requiredInputs } from '../../src/data/model-inputs.js';
import { arraySampleSource } from '../../src/data/sample-source.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { quantize } from '../../src/pipeline/quantize.js';
import { FRAGILE_LAYER, fragileInputs, fragileModel } from './fragile-model.js';

const X = [0.3, -0.6, 1.1, 0.05, -0.9, 0.7, 0.45, 0.2];
const W1 = [1.2, -0.4, 0.3, 0.9];
const W2 = [0.7, 0.2, -1.3, 0.5];
/** uint8 activations: scale 0.25, zero point 128; int8 weights: scale 0.5, zero point 0. */
const SA = 0.25;
const ZA = 128;
const SW = 0.5;

function halfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
const fakeQuant = (v: number) => SA * (Math.min(255, Math.max(0, halfEven(v / SA) + ZA)) - ZA);
const weightCode = (w: number) => halfEven(w / SW);

/** [rows, 2] × [2, 2], row-major. */
function matmul(a: number[], w: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < a.length / 2; r++)
    for (let c = 0; c < 2; c++) out.push(a[2 * r] * w[c] + a[2 * r + 1] * w[2 + c]);
  return out;
}

function sqnr(x: number[], y: number[]): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i] ** 2;
    n += (x[i] - y[i]) ** 2;
  }
  return 10 * Math.log10(s / n);
}

function cosine(x: number[], y: number[]): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i] * y[i];
    xx += x[i] ** 2;
    yy += y[i] ** 2;
  }
  return xy / Math.sqrt(xx * yy);
}

const f32 = (name: string, dims: number[], v: number[]) =>
  Tensor.fromArray(name, 'float32', dims, Float32Array.from(v));

/** x → mm1 (W1) → h → mm2 (W2) → y. */
function floatChain(): Model {
  return makeModel(
    makeGraph({
      nodes: [
        new Node('MatMul', ['x', 'W1'], ['h'], { name: 'mm1' }),
        new Node('MatMul', ['h', 'W2'], ['y'], { name: 'mm2' }),
      ],
      inputs: [makeValueInfo('x', 'float32', ['N', 2])],
      outputs: [makeValueInfo('y', 'float32', ['N', 2])],
      initializers: [f32('W1', [2, 2], W1), f32('W2', [2, 2], W2)],
    }),
    { opsets: { '': 13 } },
  );
}

/** The same chain in QDQ form, written by hand with ONNX Runtime's quantizer's names. */
function quantizedChain(): Model {
  const pair = (v: string, out: string): Node[] => [
    new Node('QuantizeLinear', [v, 'sa', 'za'], [`${v}_QuantizeLinear_Output`]),
    new Node('DequantizeLinear', [`${v}_QuantizeLinear_Output`, 'sa', 'za'], [out]),
  ];
  const weight = (name: string, w: number[]) =>
    Tensor.fromArray(`${name}_quantized`, 'int8', [2, 2], Int8Array.from(w.map(weightCode)));
  return makeModel(
    makeGraph({
      nodes: [
        ...pair('x', 'x_dq'),
        new Node('DequantizeLinear', ['W1_quantized', 'sw', 'zw'], ['W1_dq']),
        new Node('DequantizeLinear', ['W2_quantized', 'sw', 'zw'], ['W2_dq']),
        new Node('MatMul', ['x_dq', 'W1_dq'], ['h'], { name: 'mm1' }),
        ...pair('h', 'h_dq'),
        new Node('MatMul', ['h_dq', 'W2_dq'], ['y_raw'], { name: 'mm2' }),
        ...pair('y_raw', 'y'),
      ],
      inputs: [makeValueInfo('x', 'float32', ['N', 2])],
      outputs: [makeValueInfo('y', 'float32', ['N', 2])],
      initializers: [
        f32('sa', [], [SA]),
        Tensor.fromArray('za', 'uint8', [], Uint8Array.of(ZA)),
        f32('sw', [], [SW]),
        Tensor.fromArray('zw', 'int8', [], Int8Array.of(0)),
        weight('W1', W1),
        weight('W2', W2),
      ],
    }),
    { opsets: { '': 13 } },
  );
}

describe('debug: per-tensor error', () => {
  it('SQNR and cosine, accumulated and alone, equal a hand computation on a two-layer chain', async () => {
    const x = { dtype: 'float32' as const, shape: [4, 2], data: Float32Array.from(X) };
    const r = await debugQuantized(floatChain(), quantizedChain(), recordBatches({ x }, 3), {
      prepare: false,
    });
    const x32 = [...x.data];
    const xq = x32.map(fakeQuant);
    const w1q = W1.map((w) => SW * weightCode(w));
    const w2q = W2.map((w) => SW * weightCode(w));
    const h = matmul(x32, W1);
    const hq = matmul(xq, w1q).map(fakeQuant);
    const y = matmul(h, W2);
    const yq = matmul(hq, w2q).map(fakeQuant);
    const yAlone = matmul(h.map(fakeQuant), w2q).map(fakeQuant);
    const row = (name: string) => r.tensors.find((t) => t.tensor === name)!;
    assert.equal(r.samples, 4);
    assert.deepEqual(r.tensors.map((t) => t.tensor).sort(), ['h', 'x', 'y']);
    const close = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-3, `${what}: ${a} vs ${b}`);
    close(row('x').accumulated.sqnrDb, sqnr(x32, xq), 'x');
    close(row('h').accumulated.sqnrDb, sqnr(h, hq), 'h');
    close(row('y').accumulated.sqnrDb, sqnr(y, yq), 'y accumulated');
    close(row('y').local.sqnrDb, sqnr(y, yAlone), 'y alone');
    assert.ok(
      Math.abs(sqnr(y, yq) - sqnr(y, yAlone)) > 0.1,
      'the data separates the error alone from the accumulated',
    );
    close(row('y').accumulated.cosine, cosine(y, yq), 'y cosine');
    close(row('y').accumulated.relativeMse, 10 ** (-sqnr(y, yq) / 10), 'y relative MSE');
    assert.equal(row('y').layer, 'mm2');
    assert.deepEqual(row('y').clip, [SA * -128, SA * 127]);
    const w = (name: string) => r.weights.find((e) => e.weight === name)!;
    close(w('W1').sqnrDb, sqnr(W1, w1q), 'W1');
    close(w('W2').sqnrDb, sqnr(W2, w2q), 'W2');
    assert.equal(w('W2').type, 'int8');
    close(r.outputs[0].sqnrDb, sqnr(y, yq), 'output y');
  });
});

describe('debug: the fragile layer', () => {
  const model = fragileModel();
  const calibration = arraySampleSource({ x: fragileInputs(256) }, requiredInputs(model.graph));
  for (const format of ['qdq', 'qoperator'] as const) {
    it(`${format}: ranks the layer with the outlier weights first; the output error is what evaluate() measures`, async () => {
      const { model: quantized } = await quantize(model, { calibration, perChannel: false, format });
      const data = { x: fragileInputs(128, 5) };
      const r = await debugQuantized(model, quantized, recordBatches(data, 64));
      assert.equal(
        r.tensors[0].layer,
        FRAGILE_LAYER,
        r.tensors.map((t) => `${t.layer} ${t.local.sqnrDb}`).join('; '),
      );
      assert.equal(r.tensors[0].quantizedBy, format === 'qdq' ? 'QuantizeLinear' : 'QGemm');
      assert.ok(r.tensors[0].local.sqnrDb < r.tensors[1].local.sqnrDb - 20);
      const e = await evaluate(quantized, recordBatches(data, 64), { reference: model, latency: false });
      assert.ok(Math.abs(r.outputs[0].sqnrDb - e.sqnrDb!) < 1e-6, `${r.outputs[0].sqnrDb} vs ${e.sqnrDb}`);
      assert.equal(r.weights.length, 3);
      assert.equal(r.unmatched, 0);
    });
  }
});
