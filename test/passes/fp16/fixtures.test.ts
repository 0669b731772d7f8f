// Float16 conversion of the fixture models and Silero VAD: each converted model loads in ONNX Runtime
// (whose type checks refuse any float16/float32 disagreement) and is run next to its float32 original.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../../src/io/model-file.js';
import type { Model } from '../../../src/onnx/model.js';
import { tensorTypeOf } from '../../../src/onnx/value-info.js';
import { constantsToInitializers } from '../../../src/passes/constants-to-initializers.js';
import { convertToFloat16, type Fp16Report } from '../../../src/passes/fp16/convert.js';
import type { Fp16Options } from '../../../src/passes/fp16/options.js';
import { float32ArrayToFloat16 } from '../../../src/tensor/float16.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { fixtureInputs, modelPath } from '../../helpers/fixtures.js';
import { SILERO_LEGACY, SILERO_V5 } from '../../helpers/silero.js';
import {
  modelBytes,
  outputDiff,
  runModel,
  runSilero,
  sileroAudio,
  top1Agreement,
} from '../dynamic/compare.js';
import { assertControlFlowClose } from './control-flow.js';

function converted(path: string, options: Fp16Options = {}): { model: Model; report: Fp16Report } {
  const model = loadModel(path);
  constantsToInitializers(model);
  return { model, report: convertToFloat16(model, options) };
}

function floatInitializerTypes(model: Model): Set<string> {
  const types = new Set<string>();
  for (const g of model.graph.graphs()) {
    for (const t of g.initializers.values()) if (t.dtype.startsWith('float')) types.add(t.dtype);
  }
  return types;
}

const ioTypes = (model: Model) =>
  [...model.graph.inputs, ...model.graph.outputs].map((v) => `${v.name}:${tensorTypeOf(v.type).dtype}`);

/** Size limits: float weights halve; int64 shape constants and the graph itself do not. */
const CASES: [string, number][] = [
  ['mlp', 0.54],
  ['cnn_bn', 0.63],
  ['transformer', 0.58],
  ['transformer_opset17', 0.57],
];

describe('convertToFloat16 on the fixture models', () => {
  for (const [name, sizeLimit] of CASES) {
    it(`${name}: loads in ONNX Runtime, float32 I/O kept, outputs close, about half the size`, async () => {
      const original = loadModel(modelPath(name));
      const { model, report } = converted(modelPath(name));
      assert.deepEqual(ioTypes(model), ioTypes(original));
      assert.deepEqual(floatInitializerTypes(model), new Set(['float16']));
      assert.ok(report.nodes.length > 0 && report.nodes.every((n) => n.done));
      assert.equal(report.clamped + report.raised, 0);
      const inputs = fixtureInputs(name);
      const [[a], [b]] = [await runModel(original, [inputs]), await runModel(model, [inputs])];
      assert.equal(b.output.dtype, 'float32');
      const d = outputDiff(a.output, b.output);
      assert.ok(d.cosine > 0.99999 && d.maxAbsDiff < 0.002 * Math.max(1, d.maxAbs), JSON.stringify(d));
      assert.equal(top1Agreement(a.output, b.output, a.output.shape.at(-1)!), 1);
      const ratio = modelBytes(model) / modelBytes(original);
      assert.ok(ratio < sizeLimit, `size ratio ${ratio}`);
    });
  }

  it('keepIoTypes: false makes the model take and return float16', async () => {
    const { model } = converted(modelPath('mlp'), { keepIoTypes: false });
    assert.deepEqual(ioTypes(model), ['input:float16', 'output:float16']);
    assert.equal(model.graph.nodes.filter((n) => n.opType === 'Cast').length, 0);
    const inputs = fixtureInputs('mlp');
    const half: NdArray = {
      dtype: 'float16',
      shape: inputs.input.shape,
      data: float32ArrayToFloat16(inputs.input.data as Float32Array),
    };
    const [[a], [b]] = [
      await runModel(loadModel(modelPath('mlp')), [inputs]),
      await runModel(model, [{ input: half }]),
    ];
    assert.equal(b.output.dtype, 'float16');
    const d = outputDiff(a.output, b.output);
    assert.ok(d.cosine > 0.99999, JSON.stringify(d));
  });

  it('control_flow: If branches and the Loop body read converted outer-scope weights consistently', async () => {
    const original = loadModel(modelPath('control_flow'));
    const { model, report } = converted(modelPath('control_flow'));
    assert.ok(report.nodes.every((n) => n.done));
    assert.deepEqual(floatInitializerTypes(model), new Set(['float16']));
    const body = model.graph.nodes.find((n) => n.opType === 'Loop')!.subgraphs()[0];
    // Loop-carried float values are float16 on both sides of the body.
    assert.deepEqual(
      [...body.inputs, ...body.outputs].map((v) => tensorTypeOf(v.type).dtype),
      ['int64', 'bool', 'float16', 'bool', 'float16'],
    );
    await assertControlFlowClose(original, model);
  });

  it('subgraph_scan: the Scan body takes and returns float16 state and elements', async () => {
    const original = loadModel(modelPath('subgraph_scan'));
    const { model } = converted(modelPath('subgraph_scan'));
    const body = model.graph.nodes.find((n) => n.opType === 'Scan')!.subgraphs()[0];
    assert.deepEqual(
      [...body.inputs, ...body.outputs].map((v) => tensorTypeOf(v.type).dtype),
      ['float16', 'float16', 'float16', 'float16'],
    );
    const inputs = fixtureInputs('subgraph_scan');
    const [[a], [b]] = [await runModel(original, [inputs]), await runModel(model, [inputs])];
    for (const name of ['output', 'final_sum']) {
      const d = outputDiff(a[name], b[name]);
      assert.ok(d.cosine > 0.99999 && d.maxAbsDiff < 0.002 * Math.max(1, d.maxAbs), JSON.stringify(d));
    }
  });

  it('Silero VAD v5 and legacy: nested Ifs, LSTMs and Convs in float16 track float32', async () => {
    const audio = sileroAudio(8);
    for (const [path, legacy] of [
      [SILERO_V5, false],
      [SILERO_LEGACY, true],
    ] as const) {
      const original = loadModel(path);
      const { model, report } = converted(path);
      assert.ok(report.nodes.every((n) => n.done));
      assert.deepEqual(floatInitializerTypes(model), new Set(['float16']));
      const [a, b] = [await runSilero(original, audio, legacy), await runSilero(model, audio, legacy)];
      for (let i = 0; i < a.length; i++)
        assert.ok(Math.abs(a[i] - b[i]) < 0.005, `chunk ${i}: ${a[i]} vs ${b[i]}`);
      const ratio = modelBytes(model) / modelBytes(original);
      assert.ok(ratio < 0.53, `size ratio ${ratio}`);
      if (legacy) {
        // log(1 + 2^20·|STFT|): the 2^20 exceeds float16's range in both branches.
        assert.equal(report.clamped, 2);
        assert.deepEqual(report.notes, [
          "initializer '686': 1 value(s) beyond float16's range clamped to ±65504",
          "initializer '196': 1 value(s) beyond float16's range clamped to ±65504",
        ]);
      }
    }
  });
});
