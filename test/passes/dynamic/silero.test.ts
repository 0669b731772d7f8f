// Silero VAD, a real third-party model (If subgraphs, Constant-node weights, Conv, LSTM), quantized
// dynamically and run in ONNX Runtime over eight chunks of a noisy sine with the state carried along.
// Over three seeds the speech probabilities moved by at most 0.035 (v5) and 0.028 (legacy).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../../src/io/model-file.js';
import { constantsToInitializers } from '../../../src/passes/constants-to-initializers.js';
import { quantizeDynamic } from '../../../src/passes/dynamic/quantize-dynamic.js';
import { opCounts } from '../../helpers/optimized-ops.js';
import { SILERO_LEGACY, SILERO_V5 } from '../../helpers/silero.js';
import { modelBytes, runSilero, sileroAudio } from './compare.js';

const audio = sileroAudio(8);

/** Speech probabilities within 0.04, and on the same side of the usual 0.5 threshold. */
function assertClose(reference: number[], actual: number[]) {
  for (let i = 0; i < reference.length; i++) {
    const msg = `chunk ${i}: ${reference[i]} vs ${actual[i]}`;
    assert.ok(Math.abs(reference[i] - actual[i]) < 0.04, msg);
    assert.equal(reference[i] > 0.5, actual[i] > 0.5, msg);
  }
}

describe('quantizeDynamic on Silero VAD', () => {
  it('v5: Convs in both If branches become ConvInteger; LSTMs with computed weights stay float', async () => {
    const model = loadModel(SILERO_V5);
    constantsToInitializers(model);
    const report = quantizeDynamic(model, { reduceRange: true });
    const done = report.nodes.filter((n) => n.done);
    assert.equal(done.length, 12);
    assert.ok(done.every((n) => n.opType === 'Conv' && /^If_0\.(then|else)_branch$/.test(n.graph)));
    const lstms = report.nodes.filter((n) => n.opType === 'LSTM');
    assert.equal(lstms.length, 4);
    // v5 slices its LSTM weights out of larger tensors at run time (Slice → Concat → Unsqueeze).
    for (const l of lstms) assert.match(l.note, /^W '.*Unsqueeze_6_output_0' is computed at run time/);
    assert.equal(opCounts(model).ConvInteger, 12);

    const reference = await runSilero(loadModel(SILERO_V5), audio, false);
    const quantized = await runSilero(model, audio, false);
    assertClose(reference, quantized);
    assert.ok(modelBytes(model) < 0.65 * modelBytes(loadModel(SILERO_V5)));
  });

  it('legacy: Convs become ConvInteger and LSTMs DynamicQuantizeLSTM, in nested If branches', async () => {
    const model = loadModel(SILERO_LEGACY);
    constantsToInitializers(model);
    const report = quantizeDynamic(model, { reduceRange: true });
    assert.ok(report.nodes.every((n) => n.done));
    assert.equal(report.nodes.filter((n) => n.opType === 'LSTM').length, 8);
    assert.ok(
      report.nodes.some((n) => n.graph === 'If_25.then_branch.If_177.then_branch' && n.opType === 'LSTM'),
    );
    const ops = opCounts(model);
    assert.equal(ops.DynamicQuantizeLSTM, 8);
    assert.equal(ops.LSTM, undefined);
    assert.equal(ops.Conv, undefined);

    const reference = await runSilero(loadModel(SILERO_LEGACY), audio, true);
    const quantized = await runSilero(model, audio, true);
    assertClose(reference, quantized);
    // Nearly all of legacy's weights are Conv and LSTM weights.
    assert.ok(modelBytes(model) < 0.32 * modelBytes(loadModel(SILERO_LEGACY)));
  });
});
