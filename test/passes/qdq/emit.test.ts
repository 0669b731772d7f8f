import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../../src/io/model-file.js';
import { constantsToInitializers } from '../../../src/passes/constants-to-initializers.js';
import { qdqToQOperator } from '../../../src/passes/qoperator/convert.js';
import { cloneModel } from '../../../src/onnx/clone.js';
import { Runner } from '../../../src/runtime/session.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { fixtureInputs, modelPath } from '../../helpers/fixtures.js';
import { opCounts, optimizedOpCounts } from '../../helpers/optimized-ops.js';
import { quantizeForTest } from '../../helpers/static-quant.js';
import { randomInput, residualCnn } from '../../helpers/tiny-models.js';
import type { Model } from '../../../src/onnx/model.js';

const feeds: Record<string, NdArray> = {
  x: { dtype: 'float32', shape: [16, 3, 8, 8], data: randomInput([16, 3, 8, 8], 11) },
};

async function run(model: Model, inputs: Record<string, NdArray>) {
  const r = await Runner.create(model);
  try {
    return await r.run(inputs);
  } finally {
    await r.release();
  }
}

function sqnrDb(ref: Float32Array, test: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] ** 2;
    n += (ref[i] - test[i]) ** 2;
  }
  return 10 * Math.log10(s / n);
}

describe('QDQ writer', () => {
  it('produces a model ONNX Runtime fuses completely into integer kernels', async () => {
    const { model } = await quantizeForTest(residualCnn(), feeds);
    assert.deepEqual(
      model.graph.inputs.map((i) => i.name),
      ['x'],
    );
    assert.deepEqual(
      model.graph.outputs.map((o) => o.name),
      ['probs'],
    );
    const ops = await optimizedOpCounts(model);
    assert.equal(ops.QLinearConv, 2, JSON.stringify(ops));
    assert.equal(ops.QLinearAdd, 1);
    assert.equal(ops.QLinearGlobalAveragePool, 1);
    assert.equal(ops.QGemm, 1);
    for (const float of ['Conv', 'Gemm', 'Add', 'Relu', 'FusedConv']) assert.equal(ops[float] ?? 0, 0, float);
    const [ref, q] = [await run(residualCnn(), feeds), await run(model, feeds)];
    const db = sqnrDb(ref.probs.data as Float32Array, q.probs.data as Float32Array);
    assert.ok(db > 30, `SQNR ${db.toFixed(1)} dB`);
  });

  it('stores weights per channel and biases as round(b / (s_x·s_w)) in int32', async () => {
    const float = residualCnn();
    const { model, params } = await quantizeForTest(float, feeds);
    const g = model.graph;
    const w1 = float.graph.initializers.get('w1')!.toFloat32();
    const scale = g.initializers.get('w1_scale')!.toFloat32();
    const q = g.initializers.get('w1_quantized')!.data() as Int8Array;
    assert.equal(g.initializers.get('w1_quantized')!.dtype, 'int8');
    for (let c = 0; c < 8; c++) {
      let absmax = 0;
      for (let i = 0; i < 27; i++) absmax = Math.max(absmax, Math.abs(w1[c * 27 + i]));
      // Reduce-range symmetric int8: codes in [-63, 63].
      assert.equal(scale[c], Math.fround(Math.fround(2 * absmax) / 126), `channel ${c} scale`);
      for (let i = 0; i < 27; i++) {
        assert.ok(Math.abs(q[c * 27 + i] - w1[c * 27 + i] / scale[c]) <= 0.5 + 1e-6);
      }
    }
    assert.ok(!g.initializers.has('w1'), 'the float weight is gone');
    const b1 = float.graph.initializers.get('b1')!.toFloat32();
    const qb = g.initializers.get('b1_quantized')!.data() as Int32Array;
    const sx = params.get('x')!.scale;
    for (let c = 0; c < 8; c++) assert.equal(qb[c], Math.round(b1[c] / Math.fround(sx * scale[c])));
  });

  it('quantizes weights inside If/Loop bodies and read from the outer scope', async () => {
    const float = loadModel(modelPath('control_flow'));
    constantsToInitializers(float);
    const inputs = fixtureInputs('control_flow');
    const { model, report } = await quantizeForTest(float, inputs);
    assert.equal(
      report.weights,
      3,
      'if_weight (read by both branches), the Loop body weight, the Constant-node weight',
    );
    const dq = Object.entries(opCounts(model)).find(([k]) => k === 'DequantizeLinear')?.[1] ?? 0;
    assert.ok(dq >= 4);
    for (const g of model.graph.graphs())
      for (const t of g.initializers.values()) assert.notEqual(t.name, 'if_weight');
    const [ref, got] = [await run(float, inputs), await run(model, inputs)];
    assert.ok(sqnrDb(ref.output.data as Float32Array, got.output.data as Float32Array) > 25);
  });
});

describe('QOperator conversion', () => {
  it('turns every QDQ group into its integer operator with the same results', async () => {
    const { model } = await quantizeForTest(residualCnn(), feeds);
    const qop = cloneModel(model);
    const report = qdqToQOperator(qop);
    assert.deepEqual(report.converted, {
      QLinearConv: 2,
      QLinearAdd: 1,
      QLinearGlobalAveragePool: 1,
      QGemm: 1,
      MaxPool: 1,
      Flatten: 1,
    });
    assert.deepEqual(report.kept, []);
    const ops = opCounts(qop);
    for (const gone of ['Conv', 'Relu', 'Add', 'Gemm']) assert.equal(ops[gone] ?? 0, 0, gone);
    assert.equal(ops.QuantizeLinear, 1, 'one quantizer at the input');
    const [a, b] = [await run(model, feeds), await run(qop, feeds)];
    const x = a.probs.data as Float32Array;
    const y = b.probs.data as Float32Array;
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-6, `${x[i]} vs ${y[i]}`);
  });
});
