import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/io/model-file.js';
import { inferDtypes } from '../../src/onnx/infer-dtypes.js';
import { exposeValues } from '../../src/passes/expose-values.js';
import { Runner } from '../../src/runtime/session.js';
import { fixtureInputs, modelPath } from '../helpers/fixtures.js';
import { SILERO_V5, sileroInputs } from '../helpers/silero.js';

describe('exposing values from subgraphs', () => {
  it('silero v5: values inside nested If branches come out; the original outputs do not change', async () => {
    const m = loadModel(SILERO_V5);
    const types = inferDtypes(m);
    const inner: string[] = [];
    for (const { node, graph } of m.graph.walk()) {
      if (graph !== m.graph && node.opType === 'Conv') inner.push(node.outputs[0]);
    }
    assert.ok(inner.length >= 8, 'the Convs live in If branches');
    const ex = exposeValues(m, inner, types);
    assert.deepEqual(ex.unreachable, []);
    assert.equal(m.graph.outputs.length, 2, 'the input model is not modified');
    const [r0, r1] = [await Runner.create(m), await Runner.create(ex.model)];
    const [a, b] = [await r0.run(sileroInputs()), await r1.run(sileroInputs())];
    assert.deepEqual(b.output.data, a.output.data);
    assert.deepEqual(b.stateN.data, a.stateN.data);
    const taken = inner.filter((n) => b[ex.outputs.get(n)!].data.length > 0);
    const other = inner.filter((n) => b[ex.outputs.get(n)!].data.length === 0);
    assert.ok(
      taken.length > 0 && other.length > 0,
      'the 16 kHz branch ran, the 8 kHz one returned empty tensors',
    );
  });

  it('control_flow: a Loop body value comes out stacked over the iterations', async () => {
    const m = loadModel(modelPath('control_flow'));
    const loop = [...m.graph.walk()].find(({ node }) => node.opType === 'Loop')!.node;
    const body = loop.subgraphs()[0];
    const relu = body.nodes.find((n) => n.opType === 'Relu')!.outputs[0];
    const ex = exposeValues(m, [relu], inferDtypes(m));
    const r = await Runner.create(ex.model);
    const inputs = fixtureInputs('control_flow');
    const out = await r.run(inputs);
    const batch = inputs.input.shape[0];
    assert.deepEqual(out[ex.outputs.get(relu)!].shape, [3, batch, 8], 'trip count 3');
  });
});
