import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Graph } from '../../../src/onnx/graph.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { Tensor } from '../../../src/onnx/tensor.js';
import { type Dim, makeValueInfo } from '../../../src/onnx/value-info.js';
import {
  type FoldConstantsOptions,
  type FoldConstantsReport,
  foldConstants,
} from '../../../src/passes/prepare/fold-constants.js';
import { evaluateConstants } from '../../../src/runtime/evaluate-constants.js';
import type { RuntimeArray } from '../../../src/runtime/session.js';
import { toArray } from '../../helpers/arrays.js';
import { assertIdentical, floats, run } from './run-model.js';

const f32 = (name: string, dims: number[], values: number[]) =>
  Tensor.fromArray(name, 'float32', dims, Float32Array.from(values));
const i64 = (name: string, dims: number[], values: number[]) =>
  Tensor.fromArray(name, 'int64', dims, BigInt64Array.from(values.map(BigInt)));
const cast = (from: string, to: string, type: number) =>
  new Node('Cast', [from], [to], { name: `cast_${to}`, attributes: [Attribute.int('to', type)] });

interface Spec {
  nodes: Node[];
  initializers: Tensor[];
  inputs?: Array<[string, Dim[]] | [string, Dim[], 'int64' | 'bool']>;
  outputs?: string[];
  irVersion?: number;
}

function build(spec: Spec): Model {
  return makeModel(
    makeGraph({
      nodes: spec.nodes,
      inputs: (spec.inputs ?? [['x', [2, 3]]]).map(([n, s, t]) => makeValueInfo(n, t ?? 'float32', s)),
      outputs: (spec.outputs ?? ['y']).map((n) => makeValueInfo(n)),
      initializers: spec.initializers,
    }),
    { opsets: { '': 13 }, irVersion: spec.irVersion },
  );
}

/**
 * Folds a fresh copy of the model, checks ONNX Runtime gives bit-identical outputs before and after,
 * and returns the folded model, the report and how often the evaluator ran.
 */
async function fold(
  make: () => Model,
  feeds: Record<string, RuntimeArray>,
  opts?: FoldConstantsOptions,
): Promise<{ model: Model; report: FoldConstantsReport; evaluations: number }> {
  const expected = await run(make(), feeds);
  const model = make();
  let evaluations = 0;
  const report = await foldConstants(
    model,
    (m, outputs) => {
      evaluations++;
      return evaluateConstants(m, outputs);
    },
    opts,
  );
  assertIdentical(expected, await run(model, feeds));
  return { model, report, evaluations };
}

const ops = (g: Graph) => g.nodes.map((n) => n.opType);
const values = (g: Graph, name: string) => toArray(g.initializers.get(name)!.data());
const x = floats([2, 3], 1);

describe('foldConstants', () => {
  it('exposes a weight hidden behind a Transpose, in one evaluation', async () => {
    const { model, report, evaluations } = await fold(
      () =>
        build({
          nodes: [
            new Node('Transpose', ['w'], ['wt'], { name: 'transpose' }),
            new Node('MatMul', ['x', 'wt'], ['y']),
          ],
          initializers: [f32('w', [2, 3], [1, 2, 3, 4, 5, 6])],
          inputs: [['x', [4, 3]]],
        }),
      { x: floats([4, 3], 2) },
    );
    assert.deepEqual(report, { folded: 1, initializers: 1, notes: [] });
    assert.equal(evaluations, 1);
    assert.deepEqual(ops(model.graph), ['MatMul']);
    assert.deepEqual(model.graph.initializers.get('wt')!.dims, [3, 2]);
    assert.deepEqual(values(model.graph, 'wt'), [1, 4, 2, 5, 3, 6]);
  });

  it('removes shape arithmetic on constants (Shape → Gather → Unsqueeze → Concat)', async () => {
    const { model, report } = await fold(
      () =>
        build({
          nodes: [
            new Node('Shape', ['c'], ['s']),
            new Node('Gather', ['s', 'zero'], ['g']),
            new Node('Unsqueeze', ['g', 'zeros'], ['u']),
            new Node('Concat', ['u', 'minus_one'], ['shape'], { attributes: [Attribute.int('axis', 0)] }),
            new Node('Reshape', ['x', 'shape'], ['y']),
          ],
          initializers: [
            f32('c', [2, 5], new Array(10).fill(0)),
            i64('zero', [], [0]),
            i64('zeros', [1], [0]),
            i64('minus_one', [1], [-1]),
          ],
          inputs: [['x', [2, 3, 4]]],
        }),
      { x: floats([2, 3, 4], 3) },
    );
    assert.deepEqual(report, { folded: 4, initializers: 1, notes: [] });
    assert.deepEqual(ops(model.graph), ['Reshape']);
    assert.deepEqual(values(model.graph, 'shape'), [2n, -1n]);
  });

  it('folds a chain through bfloat16 (never handed back), rounding to nearest even', async () => {
    const { model, report } = await fold(
      () =>
        build({
          nodes: [cast('w', 'wb', 16), cast('wb', 'wf', 1), new Node('Mul', ['x', 'wf'], ['y'])],
          initializers: [f32('w', [3], [1 + 2 ** -8, 2, -(3 + 2 ** -7)])],
        }),
      { x },
    );
    assert.equal(report.folded, 2);
    assert.deepEqual(values(model.graph, 'wf'), [1, 2, -3]);
  });

  it('does not fold a bfloat16 value that a remaining node reads: ONNX Runtime cannot return it', async () => {
    const { model, report, evaluations } = await fold(
      () =>
        build({
          nodes: [cast('w', 'wb', 16), new Node('Reshape', ['wb', 'shape'], ['r']), cast('r', 'y', 1)],
          initializers: [f32('w', [2, 3], [1, 2, 3, 4, 5, 6])],
          inputs: [['shape', [2], 'int64']],
        }),
      { shape: { dtype: 'int64', shape: [2], data: BigInt64Array.of(3n, 2n) } },
    );
    assert.deepEqual(report, {
      folded: 0,
      initializers: 0,
      notes: ["node 'cast_wb' (Cast) is not folded: ONNX Runtime cannot hand back its bfloat16 result"],
    });
    assert.equal(evaluations, 0);
    assert.deepEqual(ops(model.graph), ['Cast', 'Reshape', 'Cast']);
  });

  describe('outputs that would grow the file', () => {
    const make = () =>
      build({
        nodes: [
          new Node('Concat', ['four', 'thousand'], ['shape'], { attributes: [Attribute.int('axis', 0)] }),
          new Node('ConstantOfShape', ['shape'], ['big'], {
            name: 'fill',
            attributes: [Attribute.tensor('value', f32('v', [1], [0.5]))],
          }),
          new Node('Add', ['x', 'big'], ['y']),
        ],
        initializers: [i64('four', [1], [4]), i64('thousand', [1], [1000])],
        inputs: [['x', [4, 1000]]],
      });
    const feeds = { x: floats([4, 1000], 4) };

    it('are left to run time beyond the limit, and what feeds them is folded instead', async () => {
      const { model, report, evaluations } = await fold(make, feeds, { maxGrownElements: 1000 });
      assert.deepEqual(report, {
        folded: 1,
        initializers: 1,
        notes: [
          "node 'fill' (ConstantOfShape) is not folded: 'big' would store 4000 elements (16000 bytes) computed from 16 bytes of constants",
        ],
      });
      assert.equal(evaluations, 2);
      assert.deepEqual(ops(model.graph), ['ConstantOfShape', 'Add']);
      assert.deepEqual(values(model.graph, 'shape'), [4n, 1000n]);
    });

    it('are folded under the limit (1M elements by default)', async () => {
      const { model, report } = await fold(make, feeds);
      assert.deepEqual(report, { folded: 2, initializers: 1, notes: [] });
      assert.deepEqual(model.graph.initializers.get('big')!.dims, [4, 1000]);
    });
  });

  it('leaves random ops, DequantizeLinear and overridable initializers alone', async () => {
    const { model, report } = await fold(
      () =>
        build({
          nodes: [
            new Node('RandomUniformLike', ['c'], ['r'], {
              attributes: [Attribute.float('low', 2), Attribute.float('high', 2)],
            }),
            new Node('DequantizeLinear', ['q', 'scale'], ['dq']),
            new Node('Neg', ['fed'], ['n']),
            new Node('Sum', ['x', 'r', 'dq', 'n'], ['y']),
          ],
          initializers: [
            f32('c', [2, 3], [0, 0, 0, 0, 0, 0]),
            Tensor.fromArray('q', 'int8', [3], Int8Array.of(-4, 0, 7)),
            f32('scale', [], [0.5]),
            f32('fed', [3], [1, 2, 3]),
          ],
          inputs: [
            ['x', [2, 3]],
            ['fed', [3]],
          ],
        }),
      { x },
    );
    assert.deepEqual(report, { folded: 0, initializers: 0, notes: [] });
    assert.equal(model.graph.nodes.length, 4);
  });

  it('folds inside If branches from outer-scope constants, even where sibling branches reuse names', async () => {
    const branch = (name: string, op: string) =>
      makeGraph({
        name,
        nodes: [new Node(op, ['wt', 'c'], ['k']), new Node('Add', ['x', 'k'], [`${name}_out`])],
        inputs: [],
        outputs: [makeValueInfo(`${name}_out`)],
      });
    const make = () =>
      build({
        nodes: [
          new Node('Transpose', ['w'], ['wt']),
          new Node('If', ['cond'], ['y'], {
            attributes: [
              Attribute.graph('then_branch', branch('then', 'Mul')),
              Attribute.graph('else_branch', branch('else', 'Sub')),
            ],
          }),
        ],
        initializers: [f32('w', [3, 2], [1, 2, 3, 4, 5, 6]), f32('c', [], [10])],
        inputs: [
          ['x', [2, 3]],
          ['cond', [], 'bool'],
        ],
      });
    for (const cond of [0, 1]) {
      const { model, report } = await fold(make, {
        x,
        cond: { dtype: 'bool', shape: [], data: Uint8Array.of(cond) },
      });
      assert.deepEqual(report, { folded: 3, initializers: 3, notes: [] });
      const [then, otherwise] = model.graph.nodes[0].subgraphs();
      assert.deepEqual(ops(then), ['Add']);
      assert.deepEqual(values(then, 'k'), [10, 30, 50, 20, 40, 60]);
      assert.deepEqual(values(otherwise, 'k'), [-9, -7, -5, -8, -6, -4]);
    }
  });
});
