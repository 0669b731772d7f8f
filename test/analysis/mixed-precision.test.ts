/**
 * Sensitivity ranking and automatic mixed precision through quantize(), on the model with one fragile
 * layer: every result is run in ONNX Runtime and compared with the float model there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordBatches } from '../../src/data/batches.js';
import { requiredInputs } from '../../src/data/model-inputs.js';
import { arraySampleSource } from '../../src/data/sample-source.js';
import { QuantkitError } from '../../src/errors.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { top1 } from '../../src/evaluate/top1.js';
import type { Model } from '../../src/onnx/model.js';
import { quantize, type QuantizeRequest } from '../../src/pipeline/quantize.js';
import { Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { FRAGILE_LAYER, fragileInputs, fragileModel } from './fragile-model.js';

const model = fragileModel();
const inputs = requiredInputs(model.graph);
const calibration = () => arraySampleSource({ x: fragileInputs(256) }, inputs);
const evalX = fragileInputs(400, 7);

/** Labels: the float model's own classes, so FP32 scores 100% and any change costs accuracy. */
async function floatClasses(): Promise<Int32Array> {
  const runner = await Runner.create(model);
  const out = (await runner.run({ x: evalX })).logits as NdArray;
  await runner.release();
  return top1(out.data as Float32Array, { rows: 400, classes: 10 });
}

async function outputSqnr(quantized: Model): Promise<number> {
  const r = await evaluate(quantized, recordBatches({ x: evalX }, 100), { reference: model, latency: false });
  return r.sqnrDb!;
}

function weightType(m: Model, weight: string): string | undefined {
  for (const t of m.graph.initializers.values())
    if (t.name === weight || t.name === `${weight}_quantized`) return t.dtype;
  return undefined;
}

const perTensor: QuantizeRequest = { perChannel: false, reduceRange: true };

describe('sensitivity', () => {
  it('ranks the fragile layer first by KL divergence on calibration data, and by accuracy with labels', async () => {
    const { report } = await quantize(model, { calibration: calibration(), ...perTensor, sensitivity: true });
    const mp = report.mixedPrecision!;
    assert.deepEqual(mp.data, { source: 'calibration', samples: 256, rankedOn: 256, labelled: false });
    assert.equal(mp.sensitivity[0].name, FRAGILE_LAYER);
    assert.ok(mp.sensitivity[0].metrics.klDivergence! > 100 * mp.sensitivity[1].metrics.klDivergence!);
    assert.equal(mp.sensitivity[0].weights, 32 * 32);
    assert.equal(mp.evaluations, 3);
    const labelled = await quantize(model, {
      calibration: calibration(),
      ...perTensor,
      evalData: arraySampleSource({ x: evalX }, inputs, { purpose: 'evaluation' }),
      evalLabels: await floatClasses(),
      sensitivity: true,
    });
    const ranked = labelled.report.mixedPrecision!;
    assert.equal(ranked.referenceAccuracy, 1);
    assert.equal(ranked.sensitivity[0].name, FRAGILE_LAYER);
    assert.ok(ranked.sensitivity[0].accuracyDrop! > 5, `${ranked.sensitivity[0].accuracyDrop} points`);
  });
});

describe('mixed precision', () => {
  it('--keep-float 1 leaves the fragile layer float32 and wins the output back', async () => {
    const full = await quantize(model, { calibration: calibration(), ...perTensor });
    const { model: mixed, report } = await quantize(model, {
      calibration: calibration(),
      ...perTensor,
      keepFloat: 1,
    });
    const layer = report.mixedPrecision!.plan.find((l) => l.layer === FRAGILE_LAYER)!;
    assert.equal(layer.precision, 'float32');
    assert.equal(weightType(mixed, 'w2'), 'float32');
    assert.equal(weightType(mixed, 'w1'), 'int8');
    assert.equal(report.quantized.Gemm, 2);
    const [before, after] = [await outputSqnr(full.model), await outputSqnr(mixed)];
    assert.ok(before < 10 && after > 25, `output SQNR ${before.toFixed(1)} → ${after.toFixed(1)} dB`);
  });

  it('--float16-fallback keeps that layer in float16, and the model runs', async () => {
    const { model: mixed, report } = await quantize(model, {
      calibration: calibration(),
      ...perTensor,
      keepFloat: 1,
      float16Fallback: true,
    });
    assert.equal(report.mixedPrecision!.plan.find((l) => l.layer === FRAGILE_LAYER)!.precision, 'float16');
    assert.equal(weightType(mixed, 'w2'), 'float16');
    assert.ok((await outputSqnr(mixed)) > 25);
  });

  it('--max-accuracy-drop puts layers back to float until the drop holds, in few evaluations', async () => {
    const labels = await floatClasses();
    const { model: mixed, report } = await quantize(model, {
      calibration: calibration(),
      ...perTensor,
      maxAccuracyDrop: 2,
      evalData: arraySampleSource({ x: evalX }, inputs, { purpose: 'evaluation' }),
      evalLabels: labels,
    });
    const mp = report.mixedPrecision!;
    assert.deepEqual(
      mp.search!.map((s) => s.keptFloat),
      [0, 1],
    );
    assert.ok(mp.search![0].drop > 2 && mp.accuracyDrop! <= 2, JSON.stringify(mp.search));
    assert.deepEqual(
      mp.plan.filter((l) => l.precision === 'float32').map((l) => l.layer),
      [FRAGILE_LAYER],
    );
    const measured = await evaluate(mixed, recordBatches({ x: evalX }, 100), { labels, latency: false });
    assert.equal(measured.accuracy, mp.accuracy);
  });

  it('--bits-budget mixes int4 and int8 weights within the budget; ONNX Runtime runs the int4 QDQ weights', async () => {
    const { model: mixed, report } = await quantize(model, { calibration: calibration(), bitsBudget: 7 });
    const mp = report.mixedPrecision!;
    assert.ok(mp.averageWeightBits <= 7, `${mp.averageWeightBits} bits`);
    const four = mp.plan.filter((l) => l.precision === 'int4').map((l) => l.layer);
    assert.ok(four.length > 0 && !four.includes(FRAGILE_LAYER), four.join(', '));
    for (const l of mp.plan) {
      const w = { fc1: 'w1', fc2: 'w2', fc3: 'w3' }[l.layer]!;
      assert.equal(weightType(mixed, w), l.precision);
    }
    const costs = mp.fourBit!;
    const chosen = costs.filter((c) => c.fourBit);
    const rest = costs.filter((c) => !c.fourBit);
    assert.ok(Math.max(...chosen.map((c) => c.perBit)) <= Math.min(...rest.map((c) => c.perBit)));
    const int8 = await quantize(model, { calibration: calibration() });
    const [all8, mixed8And4] = [await outputSqnr(int8.model), await outputSqnr(mixed)];
    assert.ok(
      mixed8And4 > all8 - 3,
      `output SQNR ${all8.toFixed(1)} dB all int8, ${mixed8And4.toFixed(1)} dB mixed`,
    );
  });

  it('refuses options it cannot honour, saying what to give', async () => {
    const refuse = (req: QuantizeRequest, pattern: RegExp) =>
      assert.rejects(
        () => quantize(model, { calibration: calibration(), ...req }),
        (e: unknown) => e instanceof QuantkitError && pattern.test(e.message),
      );
    await refuse({ maxAccuracyDrop: 0.5 }, /--eval-data and --eval-labels/);
    await refuse({ bitsBudget: 3 }, /\[4, 8\]/);
    await refuse({ keepFloat: 1, mode: 'dynamic' }, /static quantization/);
    await refuse({ float16Fallback: true }, /--keep-float or --max-accuracy-drop/);
    await refuse({ bitsBudget: 6, weightType: 'int4' }, /8-bit --weight-type/);
  });
});
