import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/io/model-file.js';
import { inferDtypes } from '../../src/onnx/infer-dtypes.js';
import { exposeValues } from '../../src/passes/expose-values.js';
import { Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { fixtureInputs, modelPath } from '../helpers/fixtures.js';
import { sileroInputs, SILERO_V5 } from '../helpers/silero.js';

/** Every value's element type as ONNX Runtime actually produces it, read through exposed outputs. */
async function runtimeTypes(path: string, inputs: Record<string, NdArray>) {
  const m = loadModel(path);
  const inferred = inferDtypes(m);
  const names: string[] = [];
  for (const { node } of m.graph.walk()) for (const o of node.outputs) if (o) names.push(o);
  // Values of these types cannot leave an onnxruntime-node session; they are checked by inference only.
  const exposable = names.filter(
    (n) => !['bfloat16', 'float8e4m3fn', 'float8e5m2', 'int4', 'uint4'].includes(inferred.get(n)!),
  );
  const exposed = exposeValues(m, exposable, inferred);
  assert.deepEqual(exposed.unreachable, []);
  const r = await Runner.create(exposed.model, { optimization: 'disabled' });
  const out = await r.run(inputs);
  await r.release();
  return { names, inferred, actual: new Map(exposable.map((n) => [n, out[exposed.outputs.get(n)!].dtype])) };
}

describe('element type inference', () => {
  for (const [name, path, inputs] of [
    ['transformer', modelPath('transformer'), () => fixtureInputs('transformer')],
    ['control_flow', modelPath('control_flow'), () => fixtureInputs('control_flow')],
    ['silero v5', SILERO_V5, sileroInputs],
  ] as const) {
    it(`${name}: every value's type matches what ONNX Runtime produces`, async () => {
      const { names, inferred, actual } = await runtimeTypes(path, inputs());
      assert.ok(names.length > 0);
      for (const n of names) assert.ok(inferred.has(n), `no type for '${n}'`);
      for (const [n, t] of actual) assert.equal(inferred.get(n), t, `value '${n}'`);
    });
  }
});
