import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { Tensor } from '../../../src/onnx/tensor.js';
import { type Dim, makeValueInfo } from '../../../src/onnx/value-info.js';
import { foldBatchNorm } from '../../../src/passes/prepare/fold-batchnorm.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { floats, relativeError, run, uniform } from './run-model.js';

const f32 = (name: string, dims: number[], data: Float32Array) =>
  Tensor.fromArray(name, 'float32', dims, data);
const random = (name: string, dims: number[], seed: number, lo = -1, hi = 1) =>
  f32(
    name,
    dims,
    uniform(
      dims.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
  );

/** BatchNormalization parameters for `c` channels; variances well away from zero. */
function bnParams(prefix: string, c: number, seed: number): Tensor[] {
  return [
    random(`${prefix}.gamma`, [c], seed, 0.5, 2),
    random(`${prefix}.beta`, [c], seed + 1),
    random(`${prefix}.mean`, [c], seed + 2),
    random(`${prefix}.var`, [c], seed + 3, 0.2, 3),
  ];
}

function bnNode(input: string, output: string, prefix = 'bn', epsilon = 1e-5): Node {
  return new Node(
    'BatchNormalization',
    [input, `${prefix}.gamma`, `${prefix}.beta`, `${prefix}.mean`, `${prefix}.var`],
    [output],
    { name: prefix, attributes: [Attribute.float('epsilon', epsilon)] },
  );
}

interface Case {
  /** A fresh model: the fold edits it in place, the reference run needs the original. */
  build: () => Model;
  input: NdArray;
}

/** layer → BatchNormalization → Relu (so the folded layer's output feeds another node). */
function layerThenBn(
  layer: Node,
  weights: Tensor[],
  channels: number,
  inputShape: Dim[],
  opset = 13,
): () => Model {
  return () =>
    makeModel(
      makeGraph({
        nodes: [
          new Node(layer.opType, layer.inputs, layer.outputs, {
            name: layer.name,
            attributes: layer.attributes(),
          }),
          bnNode(layer.outputs[0], 'bn_out'),
          new Node('Relu', ['bn_out'], ['y'], { name: 'relu' }),
        ],
        inputs: [makeValueInfo('x', 'float32', inputShape)],
        outputs: [makeValueInfo('y', 'float32')],
        initializers: [...weights, ...bnParams('bn', channels, 100)],
      }),
      { opsets: { '': opset } },
    );
}

const conv = (inputs: string[], attrs: Attribute[] = []) =>
  new Node('Conv', inputs, ['h'], {
    name: 'conv',
    attributes: [Attribute.ints('pads', [1, 1, 1, 1]), ...attrs],
  });
const convT = (group: number) =>
  new Node('ConvTranspose', ['x', 'w', 'b'], ['h'], {
    name: 'convT',
    attributes: [Attribute.int('group', group), Attribute.ints('strides', [2, 2])],
  });
const gemm = (inputs: string[], attrs: Attribute[]) =>
  new Node('Gemm', inputs, ['h'], { name: 'gemm', attributes: attrs });

const CASES: Record<string, Case> = {
  'Conv with bias': {
    build: layerThenBn(
      conv(['x', 'w', 'b']),
      [random('w', [6, 4, 3, 3], 1), random('b', [6], 2)],
      6,
      [2, 4, 5, 5],
    ),
    input: floats([2, 4, 5, 5], 3),
  },
  'Conv without bias': {
    build: layerThenBn(conv(['x', 'w']), [random('w', [6, 4, 3, 3], 4)], 6, [2, 4, 5, 5]),
    input: floats([2, 4, 5, 5], 5),
  },
  'depthwise Conv (group = channels)': {
    build: layerThenBn(
      conv(['x', 'w', 'b'], [Attribute.int('group', 4)]),
      [random('w', [4, 1, 3, 3], 6), random('b', [4], 7)],
      4,
      [1, 4, 6, 6],
    ),
    input: floats([1, 4, 6, 6], 8),
  },
  'grouped Conv (group 2)': {
    build: layerThenBn(
      conv(['x', 'w', 'b'], [Attribute.int('group', 2)]),
      [random('w', [6, 2, 3, 3], 9), random('b', [6], 10)],
      6,
      [1, 4, 5, 5],
    ),
    input: floats([1, 4, 5, 5], 11),
  },
  'ConvTranspose (group 1)': {
    build: layerThenBn(convT(1), [random('w', [4, 6, 3, 3], 12), random('b', [6], 13)], 6, [1, 4, 4, 4]),
    input: floats([1, 4, 4, 4], 14),
  },
  'ConvTranspose (group 2: weight [C_in, C_out/group, k, k])': {
    build: layerThenBn(convT(2), [random('w', [4, 3, 3, 3], 15), random('b', [6], 16)], 6, [1, 4, 4, 4]),
    input: floats([1, 4, 4, 4], 17),
  },
  'Gemm (alpha 0.5, beta 2, 1-D C)': {
    build: layerThenBn(
      gemm(['x', 'w', 'c'], [Attribute.float('alpha', 0.5), Attribute.float('beta', 2)]),
      [random('w', [8, 5], 18), random('c', [5], 19)],
      5,
      [3, 8],
    ),
    input: floats([3, 8], 20),
  },
  'Gemm (transB, no C)': {
    build: layerThenBn(gemm(['x', 'w'], [Attribute.int('transB', 1)]), [random('w', [5, 8], 21)], 5, [3, 8]),
    input: floats([3, 8], 22),
  },
  'Gemm (transB, beta 0.7, C of shape [3, 1])': {
    build: layerThenBn(
      gemm(['x', 'w', 'c'], [Attribute.int('transB', 1), Attribute.float('beta', 0.7)]),
      [random('w', [5, 8], 23), random('c', [3, 1], 24)],
      5,
      [3, 8],
    ),
    input: floats([3, 8], 25),
  },
  'MatMul + Add (bias first, as PyTorch exports it)': {
    build: () => {
      const m = layerThenBn(new Node('Add', ['bias', 'mm'], ['h'], { name: 'add' }), [], 5, [4, 6])();
      m.graph.addNode(new Node('MatMul', ['x', 'w'], ['mm'], { name: 'matmul' }), {
        before: m.graph.nodes[0],
      });
      m.graph.addInitializer(random('w', [6, 5], 26));
      m.graph.addInitializer(random('bias', [5], 27));
      return m;
    },
    input: floats([4, 6], 28),
  },
};

describe('foldBatchNorm', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: folded, same outputs in ONNX Runtime`, async () => {
      const expected = await run(c.build(), { x: c.input });
      const model = c.build();
      assert.deepEqual(foldBatchNorm(model), { folded: 1, kept: [] });
      assert.ok(!model.graph.nodes.some((n) => n.opType === 'BatchNormalization'));
      assert.equal(model.graph.nodes.length, name.startsWith('MatMul') ? 3 : 2);
      assert.deepEqual(model.graph.nodes.at(-2)?.outputs, ['bn_out'], 'the layer takes over the output name');
      const got = await run(model, { x: c.input });
      const err = relativeError(expected, got);
      assert.ok(err <= 1e-5, `relative error ${err}`);
    });
  }

  it('computes W′ = W·γ/√(σ²+ε) and b′ = (b − μ)·γ/√(σ²+ε) + β exactly (hand-computed 1×1 Conv)', async () => {
    // σ² + ε = 4 and 9, so the scales are 1/2 and 2/3.
    const build = () =>
      makeModel(
        makeGraph({
          nodes: [new Node('Conv', ['x', 'w', 'b'], ['h'], { name: 'conv' }), bnNode('h', 'y', 'bn', 1)],
          inputs: [makeValueInfo('x', 'float32', [1, 1, 2, 2])],
          outputs: [makeValueInfo('y', 'float32')],
          initializers: [
            f32('w', [2, 1, 1, 1], Float32Array.of(2, 3)),
            f32('b', [2], Float32Array.of(1, -1)),
            f32('bn.gamma', [2], Float32Array.of(1, 2)),
            f32('bn.beta', [2], Float32Array.of(0.5, 0)),
            f32('bn.mean', [2], Float32Array.of(1, 2)),
            f32('bn.var', [2], Float32Array.of(3, 8)),
          ],
        }),
      );
    const model = build();
    foldBatchNorm(model);
    assert.deepEqual([...model.graph.initializers.get('w')!.toFloat32()], [1, 2]);
    assert.deepEqual([...model.graph.initializers.get('b')!.toFloat32()], [0.5, -2]);
    const x: NdArray = { dtype: 'float32', shape: [1, 1, 2, 2], data: Float32Array.of(1, 2, 3, 4) };
    const y = await run(model, { x });
    // y = W′·x + b′ per channel: 1·x + 0.5 and 2·x − 2.
    assert.deepEqual([...(y.y.data as Float32Array)], [1.5, 2.5, 3.5, 4.5, 0, 2, 4, 6]);
    assert.deepEqual(y, await run(build(), { x }));
  });

  it('leaves shared weights alone and gives the folded layer its own copies', async () => {
    const build = () =>
      makeModel(
        makeGraph({
          nodes: [
            new Node('Conv', ['x', 'w', 'b'], ['h1'], { name: 'conv1' }),
            bnNode('h1', 'y1'),
            new Node('Conv', ['x', 'w', 'b'], ['y2'], { name: 'conv2' }),
          ],
          inputs: [makeValueInfo('x', 'float32', [1, 3, 4, 4])],
          outputs: [makeValueInfo('y1', 'float32'), makeValueInfo('y2', 'float32')],
          initializers: [random('w', [5, 3, 1, 1], 30), random('b', [5], 31), ...bnParams('bn', 5, 32)],
        }),
      );
    const x = floats([1, 3, 4, 4], 33);
    const expected = await run(build(), { x });
    const model = build();
    const w = model.graph.initializers.get('w')!;
    assert.equal(foldBatchNorm(model).folded, 1);
    assert.equal(model.graph.initializers.get('w'), w, 'the shared weight is untouched');
    const conv1 = model.graph.nodes.find((n) => n.name === 'conv1')!;
    assert.deepEqual(conv1.inputs, ['x', 'w_bnfold', 'b_bnfold']);
    assert.deepEqual(model.graph.nodes.find((n) => n.name === 'conv2')!.inputs, ['x', 'w', 'b']);
    const got = await run(model, { x });
    assert.deepEqual(got.y2, expected.y2);
    assert.ok(relativeError(expected, got) <= 1e-5);
  });

  it('folds inside an If branch whose Conv reads outer-scope weights, with new initializers in the branch', async () => {
    const branch = (name: string, body: Node[], out: string) =>
      makeGraph({ name, nodes: body, inputs: [], outputs: [makeValueInfo(out, 'float32')] });
    const build = () =>
      makeModel(
        makeGraph({
          nodes: [
            new Node('If', ['cond'], ['y'], {
              name: 'if',
              attributes: [
                Attribute.graph(
                  'then_branch',
                  branch(
                    'then',
                    [new Node('Conv', ['x', 'w', 'b'], ['t_h'], { name: 't_conv' }), bnNode('t_h', 't_y')],
                    't_y',
                  ),
                ),
                Attribute.graph('else_branch', branch('else', [new Node('Relu', ['x'], ['e_y'])], 'e_y')),
              ],
            }),
          ],
          inputs: [makeValueInfo('x', 'float32', [1, 2, 3, 3]), makeValueInfo('cond', 'bool', [])],
          outputs: [makeValueInfo('y', 'float32')],
          initializers: [random('w', [2, 2, 1, 1], 40), random('b', [2], 41), ...bnParams('bn', 2, 42)],
        }),
      );
    const feeds = {
      x: floats([1, 2, 3, 3], 43),
      cond: { dtype: 'bool' as const, shape: [], data: Uint8Array.of(1) },
    };
    const expected = await run(build(), feeds);
    const model = build();
    assert.equal(foldBatchNorm(model).folded, 1);
    const then = model.graph.nodes[0].subgraphs().find((g) => g.name === 'then')!;
    assert.deepEqual([...then.initializers.keys()].sort(), ['b_bnfold', 'w_bnfold']);
    assert.ok(model.graph.initializers.has('w'));
    assert.ok(relativeError(expected, await run(model, feeds)) <= 1e-5);
  });

  it('keeps a BatchNormalization whose input has another reader, and says why', async () => {
    const build = () =>
      makeModel(
        makeGraph({
          nodes: [
            new Node('Conv', ['x', 'w'], ['h'], { name: 'conv' }),
            bnNode('h', 'a'),
            new Node('Relu', ['h'], ['r'], { name: 'relu' }),
            new Node('Add', ['a', 'r'], ['y'], { name: 'add' }),
          ],
          inputs: [makeValueInfo('x', 'float32', [1, 3, 4, 4])],
          outputs: [makeValueInfo('y', 'float32')],
          initializers: [random('w', [3, 3, 1, 1], 50), ...bnParams('bn', 3, 51)],
        }),
      );
    const x = floats([1, 3, 4, 4], 52);
    const model = build();
    const report = foldBatchNorm(model);
    assert.equal(report.folded, 0);
    assert.deepEqual(report.kept, ["node 'bn' (BatchNormalization) stays: its input 'h' has 2 readers"]);
    assert.deepEqual(await run(model, { x }), await run(build(), { x }));
  });

  it('keeps a BatchNormalization after MatMul+Add when the MatMul output is not known to be 2-D', async () => {
    const build = () =>
      makeModel(
        makeGraph({
          nodes: [
            new Node('MatMul', ['x', 'w'], ['mm'], { name: 'matmul' }),
            new Node('Add', ['mm', 'bias'], ['h'], { name: 'add' }),
            bnNode('h', 'y'),
          ],
          inputs: [makeValueInfo('x', 'float32')],
          outputs: [makeValueInfo('y', 'float32')],
          initializers: [random('w', [6, 5], 60), random('bias', [5], 61), ...bnParams('bn', 5, 62)],
        }),
      );
    const model = build();
    const report = foldBatchNorm(model);
    assert.deepEqual(report.kept, [
      "node 'bn' (BatchNormalization) stays: node 'matmul' (MatMul)'s output is not known to be 2-D",
    ]);
    const x = floats([4, 6], 63);
    assert.deepEqual(await run(model, { x }), await run(build(), { x }));
  });

  it('keeps a BatchNormalization whose parameters are graph inputs', async () => {
    const model = layerThenBn(conv(['x', 'w']), [random('w', [6, 4, 3, 3], 4)], 6, [2, 4, 5, 5])();
    model.graph.inputs.push(makeValueInfo('bn.mean', 'float32', [6]));
    const report = foldBatchNorm(model);
    assert.deepEqual(report.kept, [
      "node 'bn' (BatchNormalization) stays: its parameter 'bn.mean' is not a constant initializer",
    ]);
    const got = await run(model, { x: floats([2, 4, 5, 5], 5) });
    assert.deepEqual(got.y.shape, [2, 6, 5, 5]);
  });
});
