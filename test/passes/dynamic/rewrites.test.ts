// The rewrites one op at a time on small synthetic models: the quantized weights stored in the model
// are exactly what src/quant computes (DOMAIN.md §1–2), and ONNX Runtime runs every produced model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuantkitError } from '../../../src/errors.js';
import { loadModel } from '../../../src/io/model-file.js';
import { Attribute } from '../../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import type { Graph } from '../../../src/onnx/graph.js';
import type { Model } from '../../../src/onnx/model.js';
import { Node } from '../../../src/onnx/node.js';
import { Tensor } from '../../../src/onnx/tensor.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import { quantizeDynamic } from '../../../src/passes/dynamic/quantize-dynamic.js';
import { dequantize } from '../../../src/quant/dequantize.js';
import { computeQParams, type QuantParams } from '../../../src/quant/qparams.js';
import { quantize } from '../../../src/quant/quantize.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { createRng } from '../../../src/tensor/random.js';
import { toArray } from '../../helpers/arrays.js';
import { modelPath } from '../../helpers/fixtures.js';
import { opCounts, optimizedOpCounts } from '../../helpers/optimized-ops.js';
import { modelBytes, outputDiff, runModel } from './compare.js';

const rng = createRng(42);
const random = (n: number, scale = 1) =>
  Float32Array.from({ length: n }, () => scale * (2 * rng.nextFloat() - 1));
const weight = (name: string, dims: number[], scale = 1) =>
  Tensor.fromArray(
    name,
    'float32',
    dims,
    random(
      dims.reduce((a, b) => a * b, 1),
      scale,
    ),
  );
const input = (name: string, shape: number[]): NdArray => ({
  dtype: 'float32',
  shape,
  data: random(shape.reduce((a, b) => a * b, 1)),
});

function model(nodes: Node[], inputs: [string, number[]][], initializers: Tensor[], opset = 17): Model {
  const graph = makeGraph({
    nodes,
    inputs: inputs.map(([n, s]) => makeValueInfo(n, 'float32', s)),
    outputs: [makeValueInfo('y', 'float32')],
    initializers,
  });
  return makeModel(graph, { opsets: { '': opset } });
}

/** Runs the float model, quantizes a copy of it, runs that, and returns both outputs' difference. */
async function quantizeAndCompare(make: () => Model, feeds: Record<string, NdArray>, options = {}) {
  const [reference] = await runModel(make(), [feeds]);
  const m = make();
  const report = quantizeDynamic(m, options);
  const [actual] = await runModel(m, [feeds]);
  return { model: m, report, diff: outputDiff(reference.y, actual.y) };
}

function initializer(graph: Graph, name: string): Tensor {
  const t = graph.findInitializer(name);
  assert.ok(t, `initializer ${name}`);
  return t;
}

/** Checks stored codes/scales/zero points against src/quant and the dequantized values against the weight. */
function assertStoredWeight(
  stored: { values: Tensor; scale: Tensor; zeroPoint: Tensor },
  floatWeight: Float32Array,
  shape: number[],
  expected: QuantParams,
  reorder: (i: number) => number = (i) => i,
) {
  const codes = quantize(floatWeight, shape, expected);
  const got = stored.values.data();
  for (let i = 0; i < codes.length; i++) assert.equal(got[reorder(i)], codes[i], `code ${i}`);
  assert.deepEqual(toArray(stored.scale.data()), Array.from(expected.scale));
  const zps = toArray(stored.zeroPoint.data());
  // One stored zero point stands for all channels when they are equal (ConvInteger takes one).
  const want = zps.length === 1 ? [...new Set(expected.zeroPoint)] : Array.from(expected.zeroPoint);
  assert.deepEqual(zps, want);
  // DOMAIN.md §1: r' = S·(q − Z) is within half a step of r (no clipping: the range is the data's own).
  const back = dequantize(codes, shape, expected);
  const halfStep = Math.max(...expected.scale) / 2;
  for (let i = 0; i < floatWeight.length; i++) {
    assert.ok(Math.abs(back[i] - floatWeight[i]) <= halfStep * (1 + 1e-6), `value ${i}`);
  }
}

describe('MatMul and Gemm', () => {
  it('stores Gemm weights as alpha·Bᵀ quantized per column, exactly as src/quant computes them', async () => {
    const make = () =>
      model(
        [
          new Node('Gemm', ['a', 'w', 'c'], ['y'], {
            name: 'gemm',
            attributes: [
              Attribute.int('transB', 1),
              Attribute.float('alpha', 0.5),
              Attribute.float('beta', 2),
            ],
          }),
        ],
        [['a', [4, 6]]],
        [weightW, biasC],
      );
    const weightW = weight('w', [5, 6]);
    const biasC = weight('c', [5]);
    const { model: m, report, diff } = await quantizeAndCompare(make, { a: input('a', [4, 6]) });
    assert.equal(
      report.nodes[0].note,
      'MatMulInteger, int8 7-bit (reduce-range) symmetric weights, per channel (5 scales); Gemm rewritten as MatMul + Add',
    );
    assert.ok(diff.cosine > 0.9999 && diff.maxAbsDiff < 0.02 * diff.maxAbs, JSON.stringify(diff));
    // The expected matrix, computed here independently: B' = 0.5 · wᵀ, [6, 5].
    const w = weightW.toFloat32();
    const bt = new Float32Array(30);
    for (let n = 0; n < 5; n++) for (let k = 0; k < 6; k++) bt[k * 5 + n] = 0.5 * w[n * 6 + k];
    const expected = computeQParams(
      'w',
      bt,
      [6, 5],
      { kind: 'axis', axis: 1 },
      {
        type: 'int8',
        symmetric: true,
        reduceRange: true,
      },
    );
    const g = m.graph;
    assert.deepEqual(initializer(g, 'w_quantized').dims, [6, 5]);
    assert.equal(initializer(g, 'w_quantized').dtype, 'int8');
    assertStoredWeight(
      {
        values: initializer(g, 'w_quantized'),
        scale: initializer(g, 'w_scale'),
        zeroPoint: initializer(g, 'w_zero_point'),
      },
      bt,
      [6, 5],
      expected,
    );
    // beta folds into the bias; the float weight and bias are gone.
    assert.deepEqual(
      toArray(initializer(g, 'c_beta2').data()),
      Array.from(biasC.toFloat32(), (v) => Math.fround(2 * v)),
    );
    assert.equal(g.initializers.has('w'), false);
    assert.equal(g.initializers.has('c'), false);
  });

  it('handles transA and a bias computed at run time, scaled by beta', async () => {
    const make = () =>
      model(
        [
          new Node('Gemm', ['a', 'w', 'c'], ['y'], {
            name: 'gemm',
            attributes: [Attribute.int('transA', 1), Attribute.float('beta', 0.7)],
          }),
        ],
        [
          ['a', [6, 4]],
          ['c', [4, 5]],
        ],
        [w],
      );
    const w = weight('w', [6, 5]);
    const { model: m, diff } = await quantizeAndCompare(make, {
      a: input('a', [6, 4]),
      c: input('c', [4, 5]),
    });
    assert.ok(diff.cosine > 0.9999 && diff.maxAbsDiff < 0.02 * diff.maxAbs, JSON.stringify(diff));
    assert.equal(opCounts(m).Transpose, 1);
    // The Add of a run-time bias is not fused, the rest is.
    const fused = await optimizedOpCounts(m);
    assert.equal(fused.DynamicQuantizeMatMul, 1);
  });

  it('quantizes a batched (3-D) B per tensor and says why', async () => {
    const w = weight('w', [2, 6, 5]);
    const make = () =>
      model([new Node('MatMul', ['a', 'w'], ['y'], { name: 'mm' })], [['a', [2, 3, 6]]], [w]);
    const { model: m, report, diff } = await quantizeAndCompare(make, { a: input('a', [2, 3, 6]) });
    assert.equal(
      report.nodes[0].note,
      'MatMulInteger, int8 7-bit (reduce-range) symmetric weights, per tensor (B has rank 3: no single column axis for per-channel scales)',
    );
    assert.deepEqual(initializer(m.graph, 'w_scale').dims, []);
    assert.ok(diff.cosine > 0.9999, JSON.stringify(diff));
  });

  it('keeps a weight in float while an excluded node still reads it, and reports every candidate', async () => {
    const w = weight('w', [6, 6]);
    const make = () =>
      model(
        [
          new Node('MatMul', ['a', 'w'], ['h'], { name: 'mm1' }),
          new Node('MatMul', ['h', 'w'], ['h2'], { name: 'mm2' }),
          new Node('MatMul', ['h2', 'h'], ['h3'], { name: 'mm3' }),
          new Node('Identity', ['h3'], ['y'], { name: 'id' }),
        ],
        [['a', [6, 6]]],
        [w],
      );
    const { model: m, report } = await quantizeAndCompare(
      make,
      { a: input('a', [6, 6]) },
      { excludeNodes: ['mm2'] },
    );
    assert.deepEqual(
      report.nodes.map((n) => `${n.node}: ${n.done ? 'done' : n.note}`),
      [
        'mm1: done',
        'mm2: excluded by name (excludeNodes)',
        "mm3: B 'h' is computed at run time, not a constant",
      ],
    );
    assert.ok(m.graph.initializers.has('w'));
    assert.ok(m.graph.initializers.has('w_quantized'));
  });
});

describe('weight range and size', () => {
  const w = weight('w', [256, 1024]);
  const make = () => model([new Node('MatMul', ['a', 'w'], ['y'], { name: 'mm' })], [['a', [4, 256]]], [w]);

  it('int8 weights are 7-bit by default and full 8-bit on request', async () => {
    const largest = (m: Model) =>
      (initializer(m.graph, 'w_quantized').data() as Int8Array).reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const reduced = await quantizeAndCompare(make, { a: input('a', [4, 256]) });
    const full = await quantizeAndCompare(make, { a: input('a', [4, 256]) }, { reduceRange: false });
    assert.equal(largest(reduced.model), 63);
    assert.equal(largest(full.model), 127);
    assert.match(full.report.nodes[0].note, /^MatMulInteger, int8 symmetric weights/);
    assert.ok(reduced.diff.cosine > 0.999, JSON.stringify(reduced.diff));
    // Full range is only accurate on CPUs with VNNI: without, ONNX Runtime's u8×s8 kernel saturates
    // (cosine 0.979 measured on an AVX2-only machine). Either way the model runs.
    assert.ok(full.diff.cosine > 0.9, JSON.stringify(full.diff));
  });

  it('a weight-dominated model shrinks about 4×', async () => {
    const before = modelBytes(make());
    const { model: m } = await quantizeAndCompare(make, { a: input('a', [4, 256]) });
    const ratio = modelBytes(m) / before;
    // 1 MB of float32 weights → 256 kB of int8, plus 1024 scales and zero points (5 kB).
    assert.ok(ratio > 0.25 && ratio < 0.26, `size ratio ${ratio}`);
  });
});

describe('Conv', () => {
  it('stores uint8 weights with [1, M, 1, 1] scales and one zero point, as src/quant computes them', async () => {
    const m = loadModel(modelPath('cnn_bn'));
    const w = m.graph.initializers.get('conv3.weight')!;
    quantizeDynamic(m);
    const expected = computeQParams(
      'conv3.weight',
      w.toFloat32(),
      [...w.dims],
      { kind: 'axis', axis: 0 },
      {
        type: 'uint8',
        symmetric: true,
      },
    );
    const stored = {
      values: initializer(m.graph, 'conv3.weight_quantized'),
      scale: initializer(m.graph, 'conv3.weight_scale'),
      zeroPoint: initializer(m.graph, 'conv3.weight_zero_point'),
    };
    assert.equal(stored.values.dtype, 'uint8');
    assert.deepEqual(stored.scale.dims, [1, 16, 1, 1]);
    assert.deepEqual(stored.zeroPoint.dims, []);
    assert.deepEqual(toArray(stored.zeroPoint.data()), [128]);
    assertStoredWeight(stored, w.toFloat32(), [...w.dims], expected);
    assert.deepEqual(initializer(m.graph, 'conv3.bias_broadcast').dims, [1, 16, 1, 1]);
    const [out] = await runModel(m, [{ input: input('input', [2, 1, 28, 28]) }]);
    assert.deepEqual(out.output.shape, [2, 10]);
  });
});

describe('LSTM', () => {
  const hidden = 4;
  const inputSize = 6;
  const W = weight('W', [2, 4 * hidden, inputSize], 0.5);
  const R = weight('R', [2, 4 * hidden, hidden], 0.5);
  const B = weight('B', [2, 8 * hidden], 0.1);
  const make = () =>
    model(
      [
        new Node('LSTM', ['x', 'W', 'R', 'B'], ['y'], {
          name: 'lstm',
          attributes: [
            Attribute.int('hidden_size', hidden),
            Attribute.string('direction', 'bidirectional'),
            Attribute.int('layout', 0),
          ],
        }),
      ],
      [['x', [3, 2, inputSize]]],
      [W, R, B],
      14,
    );

  it('becomes DynamicQuantizeLSTM with transposed weights quantized per gate unit', async () => {
    const { model: m, report, diff } = await quantizeAndCompare(make, { x: input('x', [3, 2, inputSize]) });
    assert.equal(
      report.nodes[0].note,
      'DynamicQuantizeLSTM, int8 7-bit (reduce-range) symmetric weights, per channel (32 scales)',
    );
    assert.equal(m.opset('com.microsoft'), 1);
    const node = m.graph.nodes[0];
    assert.equal(node.opType, 'DynamicQuantizeLSTM');
    assert.equal(node.domain, 'com.microsoft');
    assert.equal(node.hasAttribute('layout'), false);
    assert.ok(diff.cosine > 0.999 && diff.maxAbsDiff < 0.02, JSON.stringify(diff));

    // [D, 4H, I] quantized per row, stored as [D, I, 4H]: code (d, u, i) sits at (d, i, u).
    const rows = 2 * 4 * hidden;
    const expected = computeQParams(
      'W',
      W.toFloat32(),
      [rows, inputSize],
      { kind: 'axis', axis: 0 },
      {
        type: 'int8',
        symmetric: true,
        reduceRange: true,
      },
    );
    const stored = {
      values: initializer(m.graph, 'W_quantized'),
      scale: initializer(m.graph, 'W_scale'),
      zeroPoint: initializer(m.graph, 'W_zero_point'),
    };
    assert.deepEqual(stored.values.dims, [2, inputSize, 4 * hidden]);
    assert.deepEqual(stored.scale.dims, [2, 4 * hidden]);
    assertStoredWeight(stored, W.toFloat32(), [rows, inputSize], expected, (i) => {
      const row = Math.floor(i / inputSize);
      const d = Math.floor(row / (4 * hidden));
      const u = row % (4 * hidden);
      return d * inputSize * 4 * hidden + (i % inputSize) * 4 * hidden + u;
    });
  });

  it('per tensor means one scale per direction', async () => {
    const {
      model: m,
      report,
      diff,
    } = await quantizeAndCompare(make, { x: input('x', [3, 2, inputSize]) }, { perChannel: false });
    assert.match(report.nodes[0].note, /per direction$/);
    assert.deepEqual(initializer(m.graph, 'R_scale').dims, [2]);
    assert.ok(diff.cosine > 0.999, JSON.stringify(diff));
  });
});

describe('what stays float, and refusals', () => {
  it('GRU stays float with a report line; the model still runs', async () => {
    const H = 3;
    const weights = [weight('W', [1, 3 * H, 4]), weight('R', [1, 3 * H, H])];
    const make = () =>
      model(
        [
          new Node('GRU', ['x', 'W', 'R'], ['y'], {
            name: 'gru',
            attributes: [Attribute.int('hidden_size', H)],
          }),
        ],
        [['x', [2, 1, 4]]],
        weights,
      );
    const { report, diff } = await quantizeAndCompare(make, { x: input('x', [2, 1, 4]) });
    assert.deepEqual(report.nodes, [
      {
        node: 'gru',
        opType: 'GRU',
        graph: 'main',
        done: false,
        note: 'ONNX Runtime has no dynamically quantized GRU kernel',
      },
    ]);
    assert.equal(diff.maxAbsDiff, 0);
  });

  it('an op type asked for that has no dynamic form is listed with the reason', async () => {
    const m = model(
      [new Node('Gather', ['w', 'i'], ['y'], { name: 'gather' })],
      [],
      [weight('w', [4, 2]), Tensor.fromArray('i', 'int64', [1], BigInt64Array.of(1n))],
    );
    const report = quantizeDynamic(m, { opTypes: ['Gather', 'MatMul'] });
    assert.deepEqual(
      report.nodes.map((n) => n.note),
      ['dynamic quantization covers MatMul, Gemm, Conv, LSTM only'],
    );
    const [out] = await runModel(m, [{}]);
    assert.deepEqual(out.y.shape, [1, 2]);
  });

  it('refuses models below opset 11 and weight types ONNX Runtime has no kernel for', () => {
    const m = model([new Node('MatMul', ['a', 'w'], ['y'])], [['a', [2, 2]]], [weight('w', [2, 2])], 10);
    assert.throws(
      () => quantizeDynamic(m),
      (e: Error) => e instanceof QuantkitError && /opset 11 or newer.*opset 10/.test(e.message),
    );
    const ok = model([new Node('MatMul', ['a', 'w'], ['y'])], [['a', [2, 2]]], [weight('w', [2, 2])]);
    assert.throws(() => quantizeDynamic(ok, { weightType: 'int4' }), /int8 and uint8 weights, not int4/);
  });

  it('skips a weight fed as a graph input, which callers may override', async () => {
    const m = model(
      [new Node('MatMul', ['a', 'w'], ['y'], { name: 'mm' })],
      [
        ['a', [2, 2]],
        ['w', [2, 2]],
      ],
      [weight('w', [2, 2])],
    );
    const report = quantizeDynamic(m);
    assert.equal(report.nodes[0].note, "B 'w' is a graph input that callers can override");
    const [out] = await runModel(m, [{ a: input('a', [2, 2]) }]);
    assert.deepEqual(out.y.shape, [2, 2]);
  });
});
