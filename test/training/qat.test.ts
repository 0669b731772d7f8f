// Quantization-aware training on the bundled Fashion-MNIST CNN, a few steps: the exported model is the
// one static PTQ writes (same Q/DQ placement), runs in ONNX Runtime, and reproduces the trained
// fake-quant model — every quantized activation's codes equal but for rare float ties, and the
// classifier's input within one quantization step — and ternary weights export as codes {−1, 0, +1}.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fashionMnist, MODELS } from '../../examples/fmnist.js';
import { requiredInputs } from '../../src/data/model-inputs.js';
import { arraySampleSource } from '../../src/data/sample-source.js';
import { loadModel } from '../../src/io/model-file.js';
import type { Model } from '../../src/onnx/model.js';
import { quantize } from '../../src/pipeline/quantize.js';
import { Runner } from '../../src/runtime/session.js';
import { type NdArray, sliceAxis0 } from '../../src/tensor/ndarray.js';
import { FAKE_QUANT_OP } from '../../src/training/fake-quant/function.js';
import { quantizeAwareTraining, type QatRequest } from '../../src/training/qat.js';
import { tinyClassifier, tinyData } from './tiny-classifier.js';

const fp32 = loadModel(join(MODELS, 'fmnist_cnn.onnx'));
const calib = fashionMnist('calib');
const x = { input: sliceAxis0(fashionMnist('test').x, 0, 100) };
const request = (over: Partial<QatRequest> = {}): QatRequest => ({
  weightType: 'int4',
  perChannel: true,
  target: 'ort-cpu:vnni',
  data: { inputs: { input: sliceAxis0(calib.x, 0, 96) }, labels: calib.labels.subarray(0, 96) },
  batchSize: 32,
  steps: 3,
  schedule: { kind: 'constant', lr: 1e-4 },
  optimizer: { name: 'adam' },
  ...over,
});

/** Each Q/DQ-quantized activation → [its DequantizeLinear output, scale initializer]. */
function dequantized(m: Model): Map<string, { value: string; scale: number }> {
  const out = new Map<string, { value: string; scale: number }>();
  for (const n of m.graph.nodes) {
    const q = m.graph.producer(n.inputs[0]);
    if (n.opType !== 'DequantizeLinear' || q?.opType !== 'QuantizeLinear') continue;
    out.set(q.inputs[0], {
      value: n.outputs[0],
      scale: m.graph.initializers.get(n.inputs[1])!.toFloat32()[0],
    });
  }
  return out;
}

/** Layers reading a dequantized input, by name: where the Q/DQ pairs sit. */
function quantizedLayers(m: Model): string[] {
  const g = m.graph;
  const fed = g.nodes.filter(
    (n) =>
      n.opType !== 'QuantizeLinear' && n.inputs.some((i) => g.producer(i)?.opType === 'DequantizeLinear'),
  );
  return fed.map((n) => n.name).sort();
}

test('QAT int4 per-channel: PTQ placement, runs in ONNX Runtime, matches the fake-quant model', async () => {
  const { model, fakeQuant, report } = await quantizeAwareTraining(fp32, request());
  const ptq = await quantize(fp32, {
    calibration: arraySampleSource({ input: sliceAxis0(calib.x, 0, 96) }, requiredInputs(fp32.graph)),
    weightType: 'int4',
    perChannel: true,
    target: 'ort-cpu:vnni',
  });
  assert.deepEqual(quantizedLayers(model), quantizedLayers(ptq.model));
  assert.equal(dequantized(model).size, dequantized(ptq.model).size);
  assert.equal(report.weights, 7);

  // The fake-quant model's FakeQuant outputs against the export's DequantizeLinear outputs.
  const pairs = fakeQuant.graph.nodes
    .filter((n) => n.opType === FAKE_QUANT_OP && dequantized(model).has(n.inputs[0]))
    .map((n) => ({ activation: n.inputs[0], fq: n.outputs[0], ...dequantized(model).get(n.inputs[0])! }));
  assert.equal(pairs.length, dequantized(model).size);
  const a = await Runner.create(fakeQuant, { extraOutputs: pairs.map((p) => p.fq) });
  const b = await Runner.create(model, { extraOutputs: pairs.map((p) => p.value) });
  try {
    const fa = (await a.run(x)) as Record<string, NdArray>;
    const fb = (await b.run(x)) as Record<string, NdArray>;
    for (const p of pairs) {
      const u = fa[p.fq].data as Float32Array;
      const v = fb[p.value].data as Float32Array;
      let differing = 0;
      for (let i = 0; i < u.length; i++) if (Math.abs(u[i] - v[i]) > p.scale / 2) differing++;
      assert.ok(differing <= 1e-3 * u.length, `${p.activation}: ${differing} of ${u.length} codes differ`);
    }
    // The classifier's input (the last quantized activation) within one step, and the same classes.
    const gemmInput = fakeQuant.graph.nodes.find((n) => n.opType === 'Gemm')!.inputs[0];
    const lastPair = pairs.find((p) => p.fq === gemmInput)!;
    const u = fa[lastPair.fq].data as Float32Array;
    const v = fb[lastPair.value].data as Float32Array;
    for (let i = 0; i < u.length; i++) assert.ok(Math.abs(u[i] - v[i]) <= lastPair.scale * 1.001);
    const top = (l: Float32Array) =>
      Array.from({ length: 100 }, (_, n) => {
        const row = l.subarray(n * 10, n * 10 + 10);
        return row.indexOf(Math.max(...row));
      });
    assert.deepEqual(top(fb.logits.data as Float32Array), top(fa.logits.data as Float32Array));
  } finally {
    await a.release();
    await b.release();
  }
});

test('ternary weights export as int4 codes in {−1, 0, +1} and run in ONNX Runtime', async () => {
  const tiny = tinyData(64, 1);
  const { model } = await quantizeAwareTraining(tinyClassifier(), {
    ...request({ weightType: 'ternary', steps: 2 }),
    data: tiny,
  });
  const weights = [...model.graph.initializers.values()].filter(
    (t) => t.dtype === 'int4' && t.dims.length > 1,
  );
  assert.equal(weights.length, 2);
  for (const t of weights)
    for (const v of t.data()) assert.ok(v === -1 || v === 0 || v === 1, `${t.name}: ${v}`);
  const runner = await Runner.create(model);
  try {
    const out = (await runner.run({ input: tiny.inputs.input })) as Record<string, NdArray>;
    assert.deepEqual(out.logits.shape, [64, 3]);
  } finally {
    await runner.release();
  }
});
