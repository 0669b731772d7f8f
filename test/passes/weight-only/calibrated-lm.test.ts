// AWQ and GPTQ end to end on the bundled tiny LM: quantize() with 8 calibration windows, the result
// run by ONNX Runtime on the 64 held-out windows, its perplexity gap to FP32 against round-to-nearest's.
// Full figures (all 1626 held-out windows, 128 calibration windows): `npm run bench weight-only`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requiredInputs } from '../../../src/data/model-inputs.js';
import { openSampleSource } from '../../../src/data/sample-source.js';
import { evaluate } from '../../../src/evaluate/evaluate.js';
import { loadModel } from '../../../src/io/model-file.js';
import type { Model } from '../../../src/onnx/model.js';
import { quantize, type QuantizeRequest } from '../../../src/pipeline/quantize.js';
import { opTypes } from './models.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');

/** A bundled LM with its calibration and held-out windows: perplexity gaps of its quantized forms. */
async function bundledLm(name: string, calibration: string, heldoutFile: string) {
  const lm = loadModel(join(EXAMPLES, 'models', `${name}.onnx`));
  const heldout = await openSampleSource(join(EXAMPLES, 'data', heldoutFile), requiredInputs(lm.graph), {
    purpose: 'evaluation',
  });
  const perplexity = async (model: Model) =>
    (await evaluate(model, heldout.batches(32), { task: 'lm', latency: false })).perplexity!;
  const fp32 = await perplexity(lm);
  /** Perplexity gap to FP32 (relative) of the weight-only model, and the model. */
  return async (request: QuantizeRequest) => {
    const calibrated = request.algorithm === 'awq' || request.algorithm === 'gptq';
    const { model, report } = await quantize(lm, {
      mode: 'weight-only',
      blockSize: 128,
      ...(calibrated ? { calibration: join(EXAMPLES, 'data', calibration), calibSamples: 8 } : {}),
      ...request,
    });
    return { gap: (await perplexity(model)) / fp32 - 1, model, report };
  };
}

const gap = await bundledLm('tiny_lm', 'lm-calib.npy', 'lm-heldout.npy');

describe('AWQ and GPTQ on the bundled tiny LM', () => {
  it('4-bit, blocks of 128: GPTQ cuts the perplexity gap of RTN by more than 40%, AWQ by more than 35%', async () => {
    const rtn = await gap({ algorithm: 'rtn' });
    const gptq = await gap({ algorithm: 'gptq' });
    const awq = await gap({ algorithm: 'awq' });
    // Measured: RTN +0.59%, GPTQ +0.10% (−84%), AWQ +0.314% (−46.8%, the same on repeated runs). On all
    // 1626 held-out windows with 128 calibration windows AWQ removes 36%: this model has no outlier
    // channels for its scales to protect, so most of AWQ's gain comes from its clipping search.
    assert.ok(rtn.gap > 0.004, `RTN ${rtn.gap}`);
    assert.ok(gptq.gap < 0.6 * rtn.gap, `GPTQ ${gptq.gap} vs RTN ${rtn.gap}`);
    assert.ok(awq.gap < 0.65 * rtn.gap, `AWQ ${awq.gap} vs RTN ${rtn.gap}`);
    for (const r of [gptq, awq]) assert.equal(opTypes(r.model).filter((t) => t === 'MatMulNBits').length, 25);
    const notes = awq.report.weightOnly!.nodes.map((n) => n.note).join('\n');
    assert.match(notes, /AWQ α = /);
    assert.match(notes, /1\/s folded into LayerNormalization/);
  });

  it('3-bit (blocked DequantizeLinear, int4 storage): GPTQ wins back more than at 4 bits', async () => {
    const rtn = await gap({ algorithm: 'rtn', bits: 3, format: 'qdq' });
    const gptq = await gap({ algorithm: 'gptq', bits: 3, format: 'qdq' });
    // Measured: RTN +3.31%, GPTQ +0.68% (128 calibration windows).
    assert.ok(rtn.gap - gptq.gap > 0.015, `RTN ${rtn.gap}, GPTQ ${gptq.gap}`);
    assert.ok(gptq.gap < 0.5 * rtn.gap, `RTN ${rtn.gap}, GPTQ ${gptq.gap}`);
    const weights = [...gptq.model.graph.initializers.values()].filter((t) => t.name.endsWith('_DQ_Q3'));
    assert.equal(weights.length, 25);
    assert.ok(weights.every((t) => t.dtype === 'int4'));
  });
});

// A model built differently from the one the algorithms were developed on: LLaMA-style (RMSNorm spelled
// out, SwiGLU, rotary positions, no biases, embedding tied to the head, byte-pair vocabulary of 512).
describe('weight-only on the LLaMA-style example model', () => {
  it('4-bit, blocks of 128: HQQ, AWQ and GPTQ each beat RTN; quantized weights ≤ 0.16× their float size', async () => {
    const llamaGap = await bundledLm('tiny_llama', 'llama-calib.npy', 'llama-heldout.npy');
    const rtn = await llamaGap({ algorithm: 'rtn' });
    const hqq = await llamaGap({ algorithm: 'hqq' });
    const awq = await llamaGap({ algorithm: 'awq' });
    const gptq = await llamaGap({ algorithm: 'gptq' });
    // Measured: RTN +1.50%, HQQ +0.82% (−45%), AWQ +0.90% (−40%), GPTQ +0.93% (−38%).
    assert.ok(rtn.gap > 0.01, `RTN ${rtn.gap}`);
    for (const [name, r] of [
      ['HQQ', hqq],
      ['AWQ', awq],
      ['GPTQ', gptq],
    ] as const) {
      assert.ok(r.gap < 0.7 * rtn.gap, `${name} ${r.gap} vs RTN ${rtn.gap}`);
    }
    const w = rtn.report.weightOnly!;
    assert.equal(w.nodes.filter((n) => n.done).length, 22, '7 per block and the tied head');
    assert.ok(w.quantizedBytes <= 0.16 * w.floatBytes, `${w.quantizedBytes} of ${w.floatBytes} bytes`);
    const notes = awq.report.weightOnly!.nodes.map((n) => n.note).join('\n');
    assert.match(notes, /1\/s folded into Mul '\/blocks\.0\/mlp_norm\/Mul'/);
    assert.match(notes, /output columns of MatMul '\/blocks\.0\/up_proj\/MatMul'/);
  });
});
