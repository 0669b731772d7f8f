// Weights inside If branches and outer-scope weights read from them are quantized too; the quantized
// copy of each lives where its float original did, and the model runs both branches in ONNX Runtime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { quantizeWeightOnly } from '../../../src/passes/weight-only/quantize-weight-only.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { randomTensor } from '../../helpers/tiny-models.js';
import { floatInput, outputCosine } from './models.js';

/**
 * y = If(cond) then Relu(x · outer) else x · inner + x · outer, with `outer` a main-graph initializer
 * read from both branches and `inner` one of the else branch.
 */
function ifModel(): Model {
  const thenBranch = makeGraph({
    name: 'then',
    nodes: [
      new Node('MatMul', ['x', 'outer'], ['t'], { name: 'then_mm' }),
      new Node('Relu', ['t'], ['then_y']),
    ],
    inputs: [],
    outputs: [makeValueInfo('then_y', 'float32')],
  });
  const elseBranch = makeGraph({
    name: 'else',
    nodes: [
      new Node('MatMul', ['x', 'inner'], ['e1'], { name: 'else_inner' }),
      new Node('MatMul', ['x', 'outer'], ['e2'], { name: 'else_outer' }),
      new Node('Add', ['e1', 'e2'], ['else_y']),
    ],
    inputs: [],
    outputs: [makeValueInfo('else_y', 'float32')],
    initializers: [randomTensor('inner', [64, 16], 2, 0.2)],
  });
  const graph = makeGraph({
    nodes: [
      new Node('If', ['cond'], ['y'], {
        name: 'branch',
        attributes: [Attribute.graph('then_branch', thenBranch), Attribute.graph('else_branch', elseBranch)],
      }),
    ],
    inputs: [makeValueInfo('x', 'float32', [4, 64]), makeValueInfo('cond', 'bool', [])],
    outputs: [makeValueInfo('y', 'float32')],
    initializers: [randomTensor('outer', [64, 16], 1, 0.2)],
  });
  return makeModel(graph, { opsets: { '': 17 } });
}

function feeds(cond: boolean): Record<string, NdArray> {
  return {
    ...floatInput('x', [4, 64]),
    cond: { dtype: 'bool', shape: [], data: Uint8Array.of(cond ? 1 : 0) },
  };
}

describe('weight-only in control flow', () => {
  for (const format of ['qoperator', 'qdq'] as const) {
    it(`${format}: branch and outer-scope weights quantized, both branches run`, async () => {
      const m = ifModel();
      const report = quantizeWeightOnly(m, { bits: 8, format });
      assert.deepEqual(
        report.nodes.map((n) => [n.node, n.graph, n.done]),
        [
          ['then_mm', 'branch.then_branch', true],
          ['else_inner', 'branch.else_branch', true],
          ['else_outer', 'branch.else_branch', true],
        ],
      );
      const [then, otherwise] = m.graph.nodes.find((n) => n.opType === 'If')!.subgraphs();
      // The outer weight is quantized once, in the main graph where both branches can read it.
      const outer = [...m.graph.initializers.keys()].filter((k) => k.startsWith('outer'));
      assert.equal(outer.length, 2, `${outer}: codes and scales, symmetric so no zero points`);
      assert.ok(!m.graph.initializers.has('outer') && !otherwise.initializers.has('inner'));
      assert.ok([...otherwise.initializers.keys()].some((k) => k.startsWith('inner_')));
      if (format === 'qoperator') {
        assert.ok(then.nodes.some((n) => n.opType === 'MatMulNBits'));
      } else {
        // Each DequantizeLinear sits with its integer weight; the branches' MatMuls read its output.
        const dq = (g: typeof then) =>
          g.nodes.filter((n) => n.opType === 'DequantizeLinear').map((n) => n.outputs[0]);
        assert.deepEqual(dq(m.graph), ['outer_dequantized']);
        assert.deepEqual(dq(otherwise), ['inner_dequantized']);
        assert.deepEqual(then.nodes[0].inputs, ['x', 'outer_dequantized']);
      }
      for (const cond of [true, false]) {
        const cosine = await outputCosine(ifModel(), m, feeds(cond));
        assert.ok(cosine > 0.9999, `cond ${cond}: ${cosine}`);
      }
    });
  }
});
