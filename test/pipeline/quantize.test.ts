/**
 * quantize() on the bundled Fashion-MNIST models, measured in ONNX Runtime on real test images
 * (issue 3's acceptance): accuracy, integer-kernel fusion, size, every calibration method in both
 * formats, dynamic INT8, and the errors users get for bad input.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { recordBatches } from '../../src/data/batches.js';
import { requiredInputs } from '../../src/data/model-inputs.js';
import { arraySampleSource } from '../../src/data/sample-source.js';
import { QuantkitError } from '../../src/errors.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import type { CalibMethod, QuantFormat } from '../../src/pipeline/options.js';
import { quantize, type QuantizeRequest } from '../../src/pipeline/quantize.js';
import { type NdArray, sliceAxis0 } from '../../src/tensor/ndarray.js';
import { fashionMnist, MODELS } from '../../examples/fmnist.js';
import { withTempDir } from '../helpers/fixtures.js';
import { optimizedOpCounts } from '../helpers/optimized-ops.js';

const calib = fashionMnist('calib');
const test = fashionMnist('test');

async function accuracy(model: Model, x: NdArray, labels: Int32Array): Promise<number> {
  const r = await evaluate(model, recordBatches({ input: x }, 500), { labels, latency: false });
  return r.accuracy!;
}

function source(model: Model, samples = 1000) {
  return arraySampleSource({ input: sliceAxis0(calib.x, 0, samples) }, requiredInputs(model.graph));
}

function fileBytes(model: Model): number {
  return withTempDir((dir) => saveModel(model, join(dir, 'm.onnx')).bytes);
}

describe('static INT8 of the bundled CNN', () => {
  let fp32: Model;
  let fp32Accuracy: number;
  before(async () => {
    fp32 = loadModel(join(MODELS, 'fmnist_cnn.onnx'));
    fp32Accuracy = await accuracy(fp32, test.x, test.labels);
  });

  it('defaults: ≤ 0.3 point drop, every Conv/Gemm fused into an integer kernel, the input untouched', async () => {
    const before = fp32.graph.nodes.length;
    const { model, report } = await quantize(fp32, { calibration: source(fp32) });
    assert.equal(fp32.graph.nodes.length, before, 'the input model is not modified');
    assert.equal(report.quantized.Conv, 6);
    const drop = fp32Accuracy - (await accuracy(model, test.x, test.labels));
    assert.ok(drop <= 0.003, `drop ${(drop * 100).toFixed(2)} points`);
    const ops = await optimizedOpCounts(model);
    assert.equal(ops.QLinearConv, 6, JSON.stringify(ops));
    assert.equal(ops.QGemm, 1);
    for (const float of ['Conv', 'FusedConv', 'Gemm', 'FusedGemm', 'MatMul', 'BatchNormalization']) {
      assert.equal(ops[float] ?? 0, 0, `${float} left in float`);
    }
  });

  it('is at most 0.27× the FP32 file and deterministic', async () => {
    const a = await quantize(fp32, { calibration: source(fp32, 300) });
    const b = await quantize(fp32, { calibration: source(fp32, 300) });
    const [ba, bb] = [fileBytes(a.model), fileBytes(b.model)];
    assert.equal(ba, bb);
    assert.ok(ba / fileBytes(fp32) <= 0.27, `size ratio ${(ba / fileBytes(fp32)).toFixed(3)}`);
  });

  it('EasyQuant never leaves a layer with a worse output cosine than its min/max start', async () => {
    const { report } = await quantize(fp32, { calibration: source(fp32, 200), calibMethod: 'easyquant' });
    assert.ok(report.easyquant && report.easyquant.length >= 3, 'layers were tuned');
    for (const l of report.easyquant) assert.ok(l.after >= l.before, `${l.node}: ${l.before} → ${l.after}`);
  });

  const methods: CalibMethod[] = [
    'minmax',
    'ema',
    'percentile',
    'entropy',
    'mse',
    'aciq',
    'admm',
    'easyquant',
  ];
  const formats: QuantFormat[] = ['qdq', 'qoperator'];
  it(`every calibration method × format runs and stays within 2 points (${methods.length * formats.length} models)`, async () => {
    const x = sliceAxis0(test.x, 0, 500);
    const labels = test.labels.subarray(0, 500);
    const base = await accuracy(fp32, x, labels);
    for (const calibMethod of methods) {
      for (const format of formats) {
        const request: QuantizeRequest = { calibration: source(fp32, 200), calibMethod, format };
        const { model } = await quantize(fp32, request);
        const acc = await accuracy(model, x, labels);
        assert.ok(
          base - acc <= 0.02,
          `${calibMethod}/${format}: ${(acc * 100).toFixed(1)}% vs ${(base * 100).toFixed(1)}%`,
        );
      }
    }
  });
});

describe('dynamic INT8', () => {
  it('MLP: ≤ 0.5 point drop, MatMul chains fused by ONNX Runtime', async () => {
    const fp32 = loadModel(join(MODELS, 'fmnist_mlp.onnx'));
    const flat = fashionMnist('test', true);
    const { model } = await quantize(fp32, { mode: 'dynamic' });
    const drop = (await accuracy(fp32, flat.x, flat.labels)) - (await accuracy(model, flat.x, flat.labels));
    assert.ok(drop <= 0.005, `drop ${(drop * 100).toFixed(2)} points`);
    const ops = await optimizedOpCounts(model);
    assert.equal(ops.DynamicQuantizeMatMul, 3, JSON.stringify(ops));
    assert.ok(fileBytes(model) / fileBytes(fp32) < 0.27);
  });
});

describe('transformer classifier', () => {
  const fp32 = () => loadModel(join(MODELS, 'fmnist_transformer.onnx'));

  it('dynamic INT8: ≤ 0.5 point drop', async () => {
    const m = fp32();
    const { model, report } = await quantize(m, { mode: 'dynamic' });
    assert.ok(report.quantized.MatMul >= 12);
    const drop = (await accuracy(m, test.x, test.labels)) - (await accuracy(model, test.x, test.labels));
    assert.ok(drop <= 0.005, `drop ${(drop * 100).toFixed(2)} points`);
  });

  it('TensorRT target: symmetric int8 activations, float biases, no dynamic or operator-format ops', async () => {
    const m = fp32();
    const { model } = await quantize(m, { calibration: source(m, 200), target: 'tensorrt' });
    for (const { node, graph } of model.graph.walk()) {
      assert.ok(!['DynamicQuantizeLinear', 'MatMulInteger', 'ConvInteger'].includes(node.opType));
      assert.ok(!node.opType.startsWith('QLinear') && node.opType !== 'QGemm');
      if (node.opType === 'QuantizeLinear' || node.opType === 'DequantizeLinear') {
        const zp = graph.findInitializer(node.inputs[2]);
        const values = node.opType === 'DequantizeLinear' ? graph.findInitializer(node.inputs[0]) : undefined;
        assert.notEqual(values?.dtype, 'int32', 'no int32 bias behind a DequantizeLinear');
        assert.equal(zp?.dtype, 'int8');
        assert.ok(
          [...(zp!.data() as Int8Array)].every((z) => z === 0),
          'symmetric: zero point 0',
        );
      }
    }
    await assert.rejects(
      async () => quantize(m, { mode: 'dynamic', target: 'tensorrt' }),
      /tensorrt cannot run dynamic/i,
    );
  });
});

describe('bad input', () => {
  const fp32 = () => loadModel(join(MODELS, 'fmnist_cnn.onnx'));

  it('calibration data of the wrong shape names the input and both shapes', async () => {
    const m = fp32();
    const wrong = { dtype: 'float32' as const, shape: [10, 28, 28], data: new Float32Array(7840) };
    await assert.rejects(
      async () => quantize(m, { calibration: arraySampleSource({ input: wrong }, requiredInputs(m.graph)) }),
      (e: unknown) =>
        e instanceof QuantkitError &&
        /input 'input'/.test(e.message) &&
        /\[\?, 1, 28, 28\]/.test(e.message) &&
        /\[10, 28, 28\]/.test(e.message),
    );
  });

  it('an empty calibration set, and static mode without data, are refused with a clear message', async () => {
    const m = fp32();
    const empty = { dtype: 'float32' as const, shape: [0, 1, 28, 28], data: new Float32Array(0) };
    await assert.rejects(
      async () => quantize(m, { calibration: arraySampleSource({ input: empty }, requiredInputs(m.graph)) }),
      /holds no samples/,
    );
    await assert.rejects(
      async () => quantize(m, { mode: 'static' }),
      /static quantization needs calibration data/,
    );
  });

  it('a model with nothing to quantize says so', async () => {
    const g = makeGraph({
      nodes: [new Node('Sin', ['x'], ['y'])],
      inputs: [makeValueInfo('x', 'float32', ['N', 4])],
      outputs: [makeValueInfo('y', 'float32', ['N', 4])],
    });
    const m = makeModel(g, { opsets: { '': 17 } });
    const data = { dtype: 'float32' as const, shape: [4, 4], data: new Float32Array(16) };
    await assert.rejects(
      async () => quantize(m, { calibration: arraySampleSource({ x: data }, requiredInputs(m.graph)) }),
      /no operator of this model can be quantized statically/,
    );
  });
});
