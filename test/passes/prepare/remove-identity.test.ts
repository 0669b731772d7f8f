import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { Tensor } from '../../../src/onnx/tensor.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { loadModel } from '../../../src/io/model-file.js';
import { removeIdentities } from '../../../src/passes/prepare/remove-identity.js';
import type { RuntimeArray } from '../../../src/runtime/session.js';
import { fixtureInputs, modelPath } from '../../helpers/fixtures.js';
import { assertIdentical, floats, run } from './run-model.js';

const vi = (name: string) => makeValueInfo(name, 'float32', [2, 3]);
const x = floats([2, 3], 1);
const TRUE = Tensor.fromArray('train', 'bool', [], Uint8Array.of(1));
const RATIO = Tensor.fromArray('ratio', 'float32', [], Float32Array.of(0));
const W = Tensor.fromArray('w', 'float32', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6));

function model(nodes: Node[], outputs: string[], initializers: Tensor[] = []): Model {
  return makeModel(makeGraph({ nodes, inputs: [vi('x')], outputs: outputs.map(vi), initializers }), {
    opsets: { '': 13 },
  });
}

/** Removes identities from a fresh copy and checks ONNX Runtime gives bit-identical outputs. */
async function check(
  build: () => Model,
  feeds: Record<string, RuntimeArray> = { x },
): Promise<{ m: Model; removed: number }> {
  const expected = await run(build(), feeds);
  const m = build();
  const outputs = m.graph.outputs.map((o) => o.name);
  const removed = removeIdentities(m);
  assert.deepEqual(
    m.graph.outputs.map((o) => o.name),
    outputs,
    'graph outputs keep their names',
  );
  assertIdentical(expected, await run(m, feeds));
  return { m, removed };
}

const ops = (m: Model) => m.graph.nodes.map((n) => n.opType);

describe('removeIdentities', () => {
  it('rewires readers of an Identity in the middle of the graph', async () => {
    const { m, removed } = await check(() =>
      model(
        [
          new Node('Relu', ['x'], ['a']),
          new Node('Identity', ['a'], ['b']),
          new Node('Sigmoid', ['b'], ['y']),
          new Node('Neg', ['b'], ['z']),
        ],
        ['y', 'z'],
      ),
    );
    assert.equal(removed, 1);
    assert.deepEqual(ops(m), ['Relu', 'Sigmoid', 'Neg']);
    assert.deepEqual(m.graph.nodes[1].inputs, ['a']);
  });

  it('renames the producer when the Identity writes a graph output, and its other readers follow', async () => {
    const { m, removed } = await check(() =>
      model(
        [new Node('Relu', ['x'], ['a']), new Node('Identity', ['a'], ['y']), new Node('Neg', ['a'], ['z'])],
        ['y', 'z'],
      ),
    );
    assert.equal(removed, 1);
    assert.deepEqual(m.graph.nodes[0].outputs, ['y']);
    assert.deepEqual(m.graph.nodes[1].inputs, ['y']);
  });

  it('keeps an Identity from a graph input, an initializer or another graph output to a graph output', async () => {
    const { removed } = await check(() =>
      model(
        [
          new Node('Identity', ['x'], ['y']),
          new Node('Identity', ['w'], ['z']),
          new Node('Relu', ['x'], ['a']),
          new Node('Identity', ['a'], ['b']),
        ],
        ['y', 'z', 'a', 'b'],
        [W],
      ),
    );
    assert.equal(removed, 0);
  });

  it('removes Dropout in inference form, keeps it when its mask is read or training_mode is true', async () => {
    const { m, removed } = await check(() =>
      model(
        [
          new Node('Dropout', ['x', 'ratio'], ['a', 'unused_mask']),
          new Node('Dropout', ['a', 'ratio'], ['b', 'mask']),
          new Node('Dropout', ['b', 'ratio', 'train'], ['c']),
          new Node('Relu', ['c'], ['y']),
          new Node('Cast', ['mask'], ['m'], { attributes: [Attribute.int('to', 1)] }),
        ],
        ['y', 'm'],
        [RATIO, TRUE],
      ),
    );
    assert.equal(removed, 1);
    assert.deepEqual(ops(m), ['Dropout', 'Dropout', 'Relu', 'Cast']);
    assert.deepEqual(m.graph.nodes[0].inputs, ['x', 'ratio']);
  });

  it('rewires readers inside subgraphs, and keeps a branch Identity that outputs an outer value', async () => {
    const then = makeGraph({
      name: 'then',
      nodes: [new Node('Neg', ['b'], ['t'])],
      inputs: [],
      outputs: [vi('t')],
    });
    const otherwise = makeGraph({
      name: 'else',
      nodes: [new Node('Identity', ['b'], ['e'])],
      inputs: [],
      outputs: [vi('e')],
    });
    const build = () =>
      makeModel(
        makeGraph({
          nodes: [
            new Node('Relu', ['x'], ['a']),
            new Node('Identity', ['a'], ['b']),
            new Node('If', ['cond'], ['y'], {
              attributes: [Attribute.graph('then_branch', then), Attribute.graph('else_branch', otherwise)],
            }),
          ],
          inputs: [vi('x'), makeValueInfo('cond', 'bool', [])],
          outputs: [vi('y')],
        }),
        { opsets: { '': 13 } },
      );
    for (const c of [0, 1]) {
      const feeds = { x, cond: { dtype: 'bool' as const, shape: [], data: Uint8Array.of(c) } };
      const { m, removed } = await check(build, feeds);
      assert.equal(removed, 1);
      const [t, e] = m.graph.nodes[1].subgraphs();
      assert.deepEqual(t.nodes[0].inputs, ['a']);
      assert.deepEqual(e.nodes[0].opType, 'Identity');
      assert.deepEqual(e.nodes[0].inputs, ['a']);
    }
  });

  it('control_flow.onnx: the loop body forwards its condition input through an Identity, which stays', async () => {
    const inputs = fixtureInputs('control_flow');
    const expected = await run(loadModel(modelPath('control_flow')), inputs);
    const m = loadModel(modelPath('control_flow'));
    assert.equal(removeIdentities(m), 0);
    assertIdentical(expected, await run(m, inputs));
  });
});
