import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { buildGradientModel, registerGradient } from '../../src/autodiff/gradient-model.js';
import { QuantkitError } from '../../src/errors.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import {
  FunctionProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
} from '../../src/onnx/gen/onnx_pb.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';
import { checkGradients, randomArray, tensorOf } from './gradient-check.js';

const f64 = (name: string, shape: number[], seed: number, lo = -1, hi = 1) =>
  tensorOf(name, randomArray('float64', shape, seed, lo, hi));
const sumAll = (x: string, y: string) =>
  new Node('ReduceSum', [x], [y], { attributes: [Attribute.int('keepdims', 0)] });

function model(
  nodes: Node[],
  initializers: ReturnType<typeof f64>[],
  inputs = [makeValueInfo('x', 'float64', ['N', 3])],
  opset = 17,
): Model {
  return makeModel(
    makeGraph({ nodes, inputs, outputs: [makeValueInfo('loss', 'float64', [])], initializers }),
    {
      opsets: { '': opset },
    },
  );
}

describe('buildGradientModel', () => {
  it('sums the gradients of a value read by several nodes', async () => {
    // loss = Σ (w·w + sigmoid(w)·w) · r
    const m = model(
      [
        new Node('Mul', ['w', 'w'], ['sq']),
        new Node('Sigmoid', ['w'], ['s']),
        new Node('Mul', ['s', 'w'], ['sw']),
        new Node('Add', ['sq', 'sw'], ['t']),
        new Node('Mul', ['t', 'r'], ['u']),
        sumAll('u', 'loss'),
      ],
      [f64('w', [2, 3], 1), f64('r', [2, 3], 2)],
      [],
    );
    await checkGradients(m, 'loss', ['w'], {});
  });

  it('unbroadcasts at run time when the operand shape is not known statically', async () => {
    // p is reshaped by a shape the data gives; p2 then broadcasts against the input x [N, 3].
    const m = model(
      [
        new Node('Reshape', ['p', 'shape'], ['p2']),
        new Node('Mul', ['x', 'p2'], ['y']),
        new Node('Mul', ['y', 'y'], ['y2']),
        sumAll('y2', 'loss'),
      ],
      [f64('p', [3], 3)],
      [makeValueInfo('x', 'float64', ['N', 3]), makeValueInfo('shape', 'int64', [2])],
    );
    const feeds = {
      x: randomArray('float64', [4, 3], 4),
      shape: { dtype: 'int64' as const, shape: [2], data: BigInt64Array.of(1n, 3n) },
    };
    await checkGradients(m, 'loss', ['p'], feeds);
    const { model: gm } = buildGradientModel(m, { loss: 'loss', parameters: ['p'] });
    assert.ok(
      gm.graph.nodes.some((n) => n.opType === 'NonZero'),
      'the broadcast axes are found at run time',
    );
  });

  it('makes parameters inputs, keeps requested outputs, and prunes what the parameters do not need', async () => {
    // x → Conv(w1) → Relu → Conv(w2) → loss; only w2 is a parameter, so nothing before the second
    // Conv is differentiated, and the unused branch z disappears.
    const conv = (x: string, w: string, y: string) =>
      new Node('Conv', [x, w], [y], { attributes: [Attribute.ints('pads', [1, 1, 1, 1])] });
    const m = makeModel(
      makeGraph({
        nodes: [
          conv('x', 'w1', 'a'),
          new Node('Relu', ['a'], ['h']),
          new Node('Sigmoid', ['a'], ['z']),
          conv('h', 'w2', 'y'),
          new Node('ReduceMean', ['y'], ['loss'], { attributes: [Attribute.int('keepdims', 0)] }),
        ],
        inputs: [makeValueInfo('x', 'float32', ['N', 2, 5, 5])],
        outputs: [makeValueInfo('loss', 'float32', []), makeValueInfo('z', 'float32')],
        initializers: [
          tensorOf('w1', randomArray('float32', [3, 2, 3, 3], 5)),
          tensorOf('w2', randomArray('float32', [4, 3, 3, 3], 6)),
        ],
      }),
      { opsets: { '': 13 } },
    );
    const { model: gm, gradients } = buildGradientModel(m, {
      loss: 'loss',
      parameters: ['w2'],
      keepOutputs: ['h'],
    });
    assert.equal(gm.opset(''), 17);
    assert.deepEqual(
      gm.graph.outputs.map((o) => o.name),
      ['loss', gradients.get('w2'), 'h'],
    );
    assert.deepEqual(gm.graph.tensorType('w2'), { dtype: 'float32', shape: [4, 3, 3, 3] });
    assert.ok(!gm.graph.initializers.has('w2') && gm.graph.isGraphInput('w2'));
    assert.deepEqual(gm.graph.tensorType(gradients.get('w2')!).shape, [4, 3, 3, 3]);
    const ops = gm.graph.nodes.map((n) => n.opType);
    assert.ok(!ops.includes('ConvTranspose'), 'no input gradient for either Conv');
    assert.ok(!ops.includes('Sigmoid'), 'the unused branch is pruned');
    assert.deepEqual(
      gm.graph.consumers('x').map((n) => n.opType),
      ['Conv'],
      'only the forward Conv reads x: w1 gets no gradient',
    );

    const runner = await Runner.create(gm);
    const out = await runner.run({
      x: randomArray('float32', [2, 2, 5, 5], 7),
      w2: { dtype: 'float32', shape: [4, 3, 3, 3], data: m.graph.initializers.get('w2')!.data() },
    });
    await runner.release();
    assert.deepEqual(out.h.shape, [2, 3, 5, 5]);
    assert.deepEqual(out[gradients.get('w2')!].shape, [4, 3, 3, 3]);
  });

  it('gives zeros for a parameter the loss does not depend on', async () => {
    const m = model(
      [new Node('Mul', ['x', 'a'], ['y']), sumAll('y', 'loss'), new Node('Neg', ['b'], ['nb'])],
      [f64('a', [3], 1), f64('b', [2], 2)],
    );
    const { model: gm, gradients } = buildGradientModel(m, { loss: 'loss', parameters: ['a', 'b'] });
    const runner = await Runner.create(gm);
    const x = randomArray('float64', [2, 3], 3);
    const out = await runner.run({ x, a: randomArray('float64', [3], 1), b: randomArray('float64', [2], 2) });
    await runner.release();
    assert.deepEqual(Array.from(out[gradients.get('b')!].data as Float64Array), [0, 0]);
    const da = out[gradients.get('a')!].data as Float64Array;
    for (let j = 0; j < 3; j++)
      assert.ok(Math.abs(da[j] - ((x.data[j] as number) + (x.data[3 + j] as number))) < 1e-12);
  });

  it('differentiates through the body of a model-local function without a rule', async () => {
    // ai.test.Swish(x) = x·sigmoid(x), called on w.
    const m = model(
      [
        new Node('Swish', ['w'], ['s'], { domain: 'ai.test' }),
        new Node('Mul', ['s', 'r'], ['t']),
        sumAll('t', 'loss'),
      ],
      [f64('w', [2, 3], 1, -3, 3), f64('r', [2, 3], 2)],
      [],
    );
    m.setOpset('ai.test', 1);
    m.header.functions.push(
      create(FunctionProtoSchema, {
        name: 'Swish',
        domain: 'ai.test',
        input: ['X'],
        output: ['Y'],
        node: [
          create(NodeProtoSchema, { opType: 'Sigmoid', input: ['X'], output: ['S'] }),
          create(NodeProtoSchema, { opType: 'Mul', input: ['X', 'S'], output: ['Y'] }),
        ],
        opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
      }),
    );
    await checkGradients(m, 'loss', ['w'], {});
  });

  it('uses a registered rule for a custom operator before its function body', async () => {
    // ai.test.Twice(x) = 2x by its body; the registered rule claims 3·dy, and that is what comes out.
    registerGradient('ai.test', 'Twice', (_node, [dy], ctx) => [
      ctx.op('Mul', [dy!, ctx.floatConstant(3, dy!)]),
    ]);
    const m = model(
      [new Node('Twice', ['w'], ['t'], { domain: 'ai.test' }), sumAll('t', 'loss')],
      [f64('w', [3], 1)],
      [],
    );
    m.setOpset('ai.test', 1);
    m.header.functions.push(
      create(FunctionProtoSchema, {
        name: 'Twice',
        domain: 'ai.test',
        input: ['X'],
        output: ['Y'],
        node: [create(NodeProtoSchema, { opType: 'Add', input: ['X', 'X'], output: ['Y'] })],
        opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
      }),
    );
    const { model: gm, gradients } = buildGradientModel(m, { loss: 'loss', parameters: ['w'] });
    assert.ok(
      gm.graph.nodes.some((n) => n.opType === 'Twice'),
      'the call stays whole',
    );
    const runner = await Runner.create(gm);
    const out = await runner.run({ w: randomArray('float64', [3], 1) });
    await runner.release();
    assert.deepEqual(Array.from(out[gradients.get('w')!].data as Float64Array), [3, 3, 3]);
  });

  it('names the node and operator that has no rule', () => {
    const m = model(
      [new Node('Sin', ['w'], ['s'], { name: 'wave' }), sumAll('s', 'loss')],
      [f64('w', [3], 1)],
      [],
    );
    assert.throws(
      () => buildGradientModel(m, { loss: 'loss', parameters: ['w'] }),
      (e: Error) =>
        e instanceof QuantkitError &&
        /node 'wave' \(Sin\)/.test(e.message) &&
        /no gradient rule for Sin/.test(e.message),
    );
    // A node off the path (it only reads the input) needs no rule.
    const off = model(
      [new Node('Sin', ['x'], ['s']), new Node('Mul', ['s', 'w'], ['t']), sumAll('t', 'loss')],
      [f64('w', [3], 1)],
    );
    assert.doesNotThrow(() => buildGradientModel(off, { loss: 'loss', parameters: ['w'] }));
  });

  it('rejects bad requests with the name at fault', () => {
    const m = model([new Node('Mul', ['x', 'w'], ['y']), sumAll('y', 'loss')], [f64('w', [3], 1)]);
    const fails = (request: Parameters<typeof buildGradientModel>[1], pattern: RegExp) =>
      assert.throws(
        () => buildGradientModel(m, request),
        (e: Error) => e instanceof QuantkitError && pattern.test(e.message),
      );
    fails({ loss: 'nope', parameters: ['w'] }, /loss 'nope'/);
    fails({ loss: 'loss', parameters: ['y'] }, /parameter 'y' is neither an initializer nor an input/);
    fails({ loss: 'y', parameters: ['w'] }, /loss 'y' has shape \[N, 3\]|must be a scalar/);
    const old = model(
      [new Node('Mul', ['x', 'w'], ['y']), sumAll('y', 'loss')],
      [f64('w', [3], 1)],
      undefined,
      11,
    );
    assert.throws(
      () => buildGradientModel(old, { loss: 'loss', parameters: ['w'] }),
      /need ONNX opset 13 or later/,
    );
  });
});
