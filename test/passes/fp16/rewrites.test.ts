// The float16 rewrites on small synthetic models: the block list with Casts around kept nodes, Cast
// targets, declared types, out-of-range constants, and kept nodes inside If/Loop bodies. ONNX Runtime
// loads and runs every model produced, next to its float32 original.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../../src/io/model-file.js';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { Tensor } from '../../../src/onnx/tensor.js';
import { makeValueInfo, tensorTypeOf } from '../../../src/onnx/value-info.js';
import { constantsToInitializers } from '../../../src/passes/constants-to-initializers.js';
import { convertToFloat16 } from '../../../src/passes/fp16/convert.js';
import { Runner } from '../../../src/runtime/session.js';
import { float16ArrayToFloat32 } from '../../../src/tensor/float16.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { createRng } from '../../../src/tensor/random.js';
import { modelPath } from '../../helpers/fixtures.js';
import { floats, outputDiff, runModel } from '../dynamic/compare.js';
import { assertControlFlowClose } from './control-flow.js';

const f32 = (name: string, dims: number[], values: number[]) =>
  Tensor.fromArray(name, 'float32', dims, Float32Array.from(values));
const i64 = (name: string, values: number[]) =>
  Tensor.fromArray(name, 'int64', [values.length], BigInt64Array.from(values, BigInt));

/**
 * x [1, 1, 4, 4] → Mul by the mean of Cast(Shape(x), float) → Resize ×2 (float32 scales) → Add a
 * float Range → Relu → y. The Cast to float and the Resize scales are what float16 conversions get
 * wrong (transformers.js #1749, onnxruntime #9789).
 */
function castResizeRange(withValueInfo: boolean): Model {
  const graph = makeGraph({
    nodes: [
      new Node('Shape', ['x'], ['shape'], { name: 'shape' }),
      new Node('Cast', ['shape'], ['shape_f'], { name: 'to_float', attributes: [Attribute.int('to', 1)] }),
      new Node('ReduceMean', ['shape_f'], ['m'], {
        name: 'mean',
        attributes: [Attribute.int('keepdims', 0)],
      }),
      new Node('Mul', ['x', 'm'], ['y1'], { name: 'mul' }),
      new Node('Resize', ['y1', '', 'scales'], ['r'], { name: 'resize' }),
      new Node('Range', ['start', 'limit', 'delta'], ['ramp'], { name: 'range' }),
      new Node('Add', ['r', 'ramp'], ['a'], { name: 'add' }),
      new Node('Relu', ['a'], ['y'], { name: 'relu' }),
    ],
    inputs: [makeValueInfo('x', 'float32', [1, 1, 4, 4])],
    outputs: [makeValueInfo('y', 'float32', [1, 1, 8, 8])],
    initializers: [
      f32('scales', [4], [1, 1, 2, 2]),
      f32('start', [], [0]),
      f32('limit', [], [8]),
      f32('delta', [], [1]),
    ],
    valueInfo: withValueInfo
      ? [
          makeValueInfo('m', 'float32', []),
          makeValueInfo('y1', 'float32', [1, 1, 4, 4]),
          makeValueInfo('r', 'float32', [1, 1, 8, 8]),
          makeValueInfo('a', 'float32', [1, 1, 8, 8]),
        ]
      : [],
  });
  return makeModel(graph, { opsets: { '': 17 } });
}

const rng = createRng(3);
const x: NdArray = {
  dtype: 'float32',
  shape: [1, 1, 4, 4],
  data: Float32Array.from({ length: 16 }, () => rng.nextFloat() - 0.5),
};

describe('convertToFloat16: blocked ops, Cast targets, declared types', () => {
  it('keeps Resize and Range in float32 with Casts around them and retargets Cast(to=float)', async () => {
    const model = castResizeRange(true);
    const report = convertToFloat16(model);
    assert.deepEqual(
      report.nodes.map((n) => `${n.node} ${n.done ? '+' : '-'} ${n.note}`),
      [
        'to_float + Cast to float16 instead of float32',
        'mean + float16',
        'mul + float16',
        'resize - Resize: it reads float32 scales',
        'range - Range: ONNX defines Range without float16',
        'add + float16',
        'relu + float16',
      ],
    );
    const g = model.graph;
    // Only the blocked nodes' constants stay float32.
    assert.deepEqual(
      [...g.initializers.values()].map((t) => `${t.name}:${t.dtype}`),
      ['scales:float32', 'start:float32', 'limit:float32', 'delta:float32'],
    );
    // x → float16 for Mul; Mul's result → float32 for Resize; Resize's and Range's results → float16
    // for Add; Relu's float16 result → float32 for the model output.
    assert.equal(report.casts, 5);
    const types = Object.fromEntries(
      [...g.valueInfo.values()].map((v) => [v.name, tensorTypeOf(v.type).dtype]),
    );
    assert.deepEqual(types, { m: 'float16', y1: 'float16', r: 'float32', a: 'float16' });

    const [[a], [b]] = [await runModel(castResizeRange(true), [{ x }]), await runModel(model, [{ x }])];
    assert.equal(b.y.dtype, 'float32');
    const d = outputDiff(a.y, b.y);
    assert.ok(d.maxAbsDiff < 0.01, JSON.stringify(d));
  });

  it('ONNX Runtime refuses the model if one declared type is left float32 (the check is real)', async () => {
    const model = castResizeRange(true);
    convertToFloat16(model);
    const vi = model.graph.valueInfo.get('y1')!;
    vi.type = makeValueInfo('y1', 'float32', [1, 1, 4, 4]).type;
    await assert.rejects(Runner.create(model), /ONNX Runtime cannot load the model/);
  });

  it('user block lists and the node filter keep nodes in float32 too', async () => {
    const model = castResizeRange(false);
    const report = convertToFloat16(model, { keepFloat32Ops: ['Relu'], excludeNodes: ['mul'] });
    const kept = report.nodes.filter((n) => !n.done).map((n) => `${n.node}: ${n.note}`);
    assert.deepEqual(kept, [
      'mul: excluded by name (excludeNodes)',
      'resize: Resize: it reads float32 scales',
      'range: Range: ONNX defines Range without float16',
      'relu: Relu: kept float32 as asked (keepFloat32Ops)',
    ]);
    const [[a], [b]] = [await runModel(castResizeRange(false), [{ x }]), await runModel(model, [{ x }])];
    assert.ok(outputDiff(a.y, b.y).maxAbsDiff < 0.01);
  });

  it('clamps values beyond ±65504, raises tiny ones to ±2^-24, keeps ±Inf and NaN, and says so', async () => {
    const values = [1e5, -1e6, 1e-9, -1e-30, Infinity, -Infinity, Number.NaN, 0.5, 0];
    const make = () =>
      makeModel(
        makeGraph({
          nodes: [new Node('Add', ['x', 'c'], ['y'], { name: 'add' })],
          inputs: [makeValueInfo('x', 'float32', [values.length])],
          outputs: [makeValueInfo('y', 'float32', [values.length])],
          initializers: [f32('c', [values.length], values)],
        }),
      );
    const model = make();
    const report = convertToFloat16(model);
    assert.equal(report.clamped, 2);
    assert.equal(report.raised, 2);
    assert.deepEqual(report.notes, [
      "initializer 'c': 2 value(s) beyond float16's range clamped to ±65504",
      "initializer 'c': 2 non-zero value(s) below 2^-24 raised to ±2^-24 instead of becoming 0",
    ]);
    const expected = [65504, -65504, 2 ** -24, -(2 ** -24), Infinity, -Infinity, Number.NaN, 0.5, 0];
    const stored = model.graph.initializers.get('c')!;
    assert.equal(stored.dtype, 'float16');
    assert.deepEqual(Array.from(float16ArrayToFloat32(stored.data() as Uint16Array)), expected);
    const zeros: NdArray = {
      dtype: 'float32',
      shape: [values.length],
      data: new Float32Array(values.length),
    };
    const [out] = await runModel(model, [{ x: zeros }]);
    assert.deepEqual(Array.from(floats(out.y)), expected);
  });
});

describe('convertToFloat16 on Constant and ConstantOfShape nodes', () => {
  it('converts their float32 values in place', async () => {
    const make = () =>
      makeModel(
        makeGraph({
          nodes: [
            new Node('Constant', [], ['c'], {
              name: 'c',
              attributes: [Attribute.floats('value_floats', [1.5, -2, 1e6])],
            }),
            new Node('Constant', [], ['shape'], {
              name: 'shape',
              attributes: [Attribute.tensor('value', i64('v', [3]))],
            }),
            new Node('ConstantOfShape', ['shape'], ['zeros'], { name: 'zeros' }),
            new Node('Add', ['x', 'c'], ['s'], { name: 'add' }),
            new Node('Add', ['s', 'zeros'], ['y'], { name: 'add_zeros' }),
          ],
          inputs: [makeValueInfo('x', 'float32', [3])],
          outputs: [makeValueInfo('y', 'float32', [3])],
        }),
      );
    const model = make();
    const report = convertToFloat16(model);
    assert.deepEqual(
      report.nodes.map((n) => `${n.node}: ${n.note}`),
      ['c: float16 value', 'zeros: float16 fill value', 'add: float16', 'add_zeros: float16'],
    );
    assert.deepEqual(report.notes, [
      "node 'c' (Constant)'s value: 1 value(s) beyond float16's range clamped to ±65504",
    ]);
    const input: NdArray = { dtype: 'float32', shape: [3], data: Float32Array.of(1, 2, 0) };
    const [out] = await runModel(model, [{ x: input }]);
    assert.deepEqual(Array.from(floats(out.y)), [2.5, 0, 65504]);
  });
});

describe('convertToFloat16 across If/Loop boundaries', () => {
  const fixture = () => {
    const m = loadModel(modelPath('control_flow'));
    constantsToInitializers(m);
    return m;
  };

  it('a kept node inside an If branch and a Loop body gets Casts inside the body', async () => {
    const model = fixture();
    const report = convertToFloat16(model, { keepFloat32Ops: ['Relu'] });
    assert.deepEqual(
      report.nodes.filter((n) => !n.done).map((n) => `${n.graph} ${n.node}`),
      ['if.then_branch then_relu', 'loop.body loop_relu'],
    );
    // The Loop body's carried value stays float16 at its boundary: Relu's float32 result is cast back.
    const body = model.graph.nodes.find((n) => n.opType === 'Loop')!.subgraphs()[0];
    assert.equal(tensorTypeOf(body.outputs[1].type).dtype, 'float16');
    assert.ok(body.nodes.some((n) => n.opType === 'Cast' && n.outputs[0] === body.outputs[1].name));
    await assertControlFlowClose(fixture(), model);
  });

  it('a kept If keeps both branches in float32, reading float16 outer values through Casts', async () => {
    const model = fixture();
    const report = convertToFloat16(model, { excludeNodes: ['if'] });
    assert.deepEqual(
      report.nodes.filter((n) => !n.done).map((n) => `${n.node}: ${n.note}`),
      [
        'if: excluded by name (excludeNodes)',
        "else_matmul: inside node 'if' (If), which stays float32",
        "else_neg: inside node 'if' (If), which stays float32",
        "then_matmul: inside node 'if' (If), which stays float32",
        "then_relu: inside node 'if' (If), which stays float32",
      ],
    );
    // if_weight is read only inside the kept branches: it stays float32.
    assert.equal(model.graph.initializers.get('if_weight')!.dtype, 'float32');
    await assertControlFlowClose(fixture(), model);
  });
});
