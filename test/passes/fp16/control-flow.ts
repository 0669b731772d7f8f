/** Checking a converted control_flow fixture against its float32 original, for both If branches. */
import assert from 'node:assert/strict';
import type { Model } from '../../../src/onnx/model.js';
import { fixtureInputs } from '../../helpers/fixtures.js';
import { outputDiff, runModel } from '../dynamic/compare.js';

/** Runs control_flow for both values of `cond` and checks the outputs stay close. */
export async function assertControlFlowClose(original: Model, model: Model): Promise<void> {
  const inputs = fixtureInputs('control_flow');
  for (const cond of [true, false]) {
    const feeds = {
      ...inputs,
      cond: { dtype: 'bool' as const, shape: [], data: Uint8Array.of(cond ? 1 : 0) },
    };
    const [[a], [b]] = [await runModel(original, [feeds]), await runModel(model, [feeds])];
    const d = outputDiff(a.output, b.output);
    assert.ok(
      d.cosine > 0.99999 && d.maxAbsDiff < 0.002 * Math.max(1, d.maxAbs),
      `cond=${cond}: ${JSON.stringify(d)}`,
    );
  }
}
