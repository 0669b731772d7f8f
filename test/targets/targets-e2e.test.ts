/**
 * The target profiles on the bundled models, verified in the runtime each one names. Speed figures are
 * reported by verification but not asserted (timing is for benchmarks); fusion, accuracy and the
 * TensorRT rules are deterministic and are.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recordBatches } from '../../src/data/batches.js';
import { requiredInputs } from '../../src/data/model-inputs.js';
import { arraySampleSource } from '../../src/data/sample-source.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { loadModel } from '../../src/io/model-file.js';
import type { Model } from '../../src/onnx/model.js';
import { quantize } from '../../src/pipeline/quantize.js';
import { cpuFeatures } from '../../src/runtime/latency.js';
import type { RuntimeOptions } from '../../src/runtime/session.js';
import { tensorRtViolations } from '../../src/targets/tensorrt-rules.js';
import { sliceAxis0 } from '../../src/tensor/ndarray.js';
import { fashionMnist, MODELS } from '../../examples/fmnist.js';
import { withTempDir } from '../helpers/fixtures.js';

const calib = fashionMnist('calib');
const test = fashionMnist('test');
const load = (name: string) => loadModel(join(MODELS, `${name}.onnx`));
const calibration = (m: Model, n = 1000) =>
  arraySampleSource({ input: sliceAxis0(calib.x, 0, n) }, requiredInputs(m.graph));

async function drop(fp32: Model, q: Model, runtime: RuntimeOptions = {}, n = 2000): Promise<number> {
  const acc = async (m: Model) =>
    (
      await evaluate(m, recordBatches({ input: sliceAxis0(test.x, 0, n) }, 500), {
        labels: test.labels.subarray(0, n),
        latency: false,
        runtime,
      })
    ).accuracy!;
  return (await acc(fp32)) - (await acc(q));
}

describe('ort-cpu profiles', () => {
  for (const name of ['fmnist_cnn', 'fmnist_mobilenet']) {
    it(`ort-cpu:avx2 on ${name}: 7-bit weights, every layer fused, ≤ 0.1 point drop`, async () => {
      const fp32 = load(name);
      const { model, report } = await quantize(fp32, {
        calibration: calibration(fp32),
        target: 'ort-cpu:avx2',
        verify: true,
      });
      assert.equal(report.options.reduceRange, true);
      assert.deepEqual(report.verification!.fused!.unfused, []);
      // ≤ 0.1 point (2 of 2000 images), plus one image: float kernels differ slightly between CPUs.
      const d = await drop(fp32, model);
      assert.ok(d <= 0.0015, `drop ${(d * 100).toFixed(2)} points`);
    });
  }

  it('ort-cpu:vnni keeps full-range weights (accuracy checked only on a CPU that has VNNI)', async (t) => {
    const fp32 = load('fmnist_cnn');
    const { model, report } = await quantize(fp32, {
      calibration: calibration(fp32, 300),
      target: 'ort-cpu:vnni',
    });
    assert.equal(report.options.reduceRange, false);
    const vnni = cpuFeatures().flags.some((f) => f === 'avx512_vnni' || f === 'avx_vnni');
    if (!vnni)
      return t.skip(
        'this CPU has no VNNI: full-range int8 weights saturate here, as the avx2 profile avoids',
      );
    const d = await drop(fp32, model);
    assert.ok(d <= 0.001, `drop ${(d * 100).toFixed(2)} points`);
  });

  it('--act-type int8 on ort-cpu: verification names the Convs ONNX Runtime did not fuse', async () => {
    const fp32 = load('fmnist_cnn');
    const { report } = await quantize(fp32, {
      calibration: calibration(fp32, 200),
      activationType: 'int8',
      symmetricActivations: true,
      verify: true,
    });
    const v = report.verification!;
    assert.ok(v.fused!.unfused.length > 0, 'int8 activations leave Convs unfused on x86');
    assert.ok(v.fused!.unfused.every((n) => n.endsWith('Conv')));
    assert.match(v.warnings.join('\n'), /were not fused into integer kernels and run in float: .*Conv/);
    assert.ok(typeof v.speedup === 'number');
    assert.match(report.notes.join('\n'), /int8 activations/);
  });
});

describe('ort-wasm profile', () => {
  it('times each layer and the whole model in onnxruntime-web, keeps slower layers float, verifies there (≤ 0.3 point drop)', async () => {
    const fp32 = load('fmnist_mobilenet');
    const { model, report } = await quantize(fp32, {
      calibration: calibration(fp32),
      target: 'ort-wasm',
      verify: true,
    });
    assert.ok(report.speed && report.speed.length >= 20, 'every planned layer was timed');
    const kept = report.speed!.filter((d) => d.keptFloat);
    const quantized = report.speed!.filter((d) => !d.keptFloat);
    for (const d of report.speed!) if (d.speedup < 1) assert.ok(d.keptFloat, `${d.node} is slower in INT8`);
    // Layers are given up slowest first, so every kept-float layer is slower than every INT8 one.
    if (kept.length > 0 && quantized.length > 0)
      assert.ok(Math.max(...kept.map((d) => d.speedup)) <= Math.min(...quantized.map((d) => d.speedup)));
    assert.ok(report.speedChecks && report.speedChecks.length >= 1, 'the whole model was timed');
    assert.equal(report.verification!.runtime, 'onnxruntime-web (WebAssembly)');
    const d = await drop(fp32, model, { backend: 'wasm' }, 500);
    assert.ok(d <= 0.003, `drop ${(d * 100).toFixed(2)} points`);
  });
});

describe('tensorrt profile', () => {
  for (const name of ['fmnist_cnn', 'fmnist_transformer']) {
    it(`${name}: follows TensorRT's Q/DQ rules, runs in ONNX Runtime, ≤ 0.5 point drop`, async () => {
      const fp32 = load(name);
      const { model, report } = await quantize(fp32, {
        calibration: calibration(fp32),
        target: 'tensorrt',
        verify: true,
      });
      assert.deepEqual(tensorRtViolations(model), []);
      assert.deepEqual(report.verification!.tensorrt, []);
      // ≤ 0.5 point (10 of 2000 images), plus one image for float differences between CPUs.
      const d = await drop(fp32, model);
      assert.ok(d <= 0.0055, `drop ${(d * 100).toFixed(2)} points`);
    });
  }

  it('the rule check catches shared pairs, int32 biases and integer operators', async () => {
    const fp32 = load('fmnist_cnn');
    const { model } = await quantize(fp32, {
      calibration: calibration(fp32, 100),
      target: 'ort-cpu:avx2',
      format: 'qoperator',
    });
    const v = tensorRtViolations(model).join('\n');
    assert.match(v, /QLinearConv has no TensorRT importer/);
    const { model: qdq } = await quantize(fp32, {
      calibration: calibration(fp32, 100),
      target: 'ort-cpu:avx2',
    });
    const w = tensorRtViolations(qdq).join('\n');
    assert.match(w, /int32 bias/);
    assert.match(w, /zero point must be int8 0/);
  });

  it('writes the calibration table TensorRT reads', async () => {
    await withTempDir(async (dir) => {
      const fp32 = load('fmnist_cnn');
      const { report } = await quantize(fp32, {
        calibration: calibration(fp32, 100),
        target: 'tensorrt',
        calibrationTable: dir,
      });
      assert.deepEqual(report.calibrationTable!.map((p) => p.slice(dir.length + 1)).sort(), [
        'calibration.cache',
        'calibration.json',
      ]);
      const json = JSON.parse(readFileSync(join(dir, 'calibration.json'), 'utf8'));
      const lines = readFileSync(join(dir, 'calibration.cache'), 'utf8').trim().split('\n');
      assert.equal(lines.length, Object.keys(json).length);
      const [name, value] = lines[0].split(' ');
      assert.equal(Number(value), Math.max(Math.abs(json[name].lowest), Math.abs(json[name].highest)));
    });
  });
});
