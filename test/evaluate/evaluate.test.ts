import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recordBatches } from '../../src/data/batches.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../src/tensor/float16.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { createRng } from '../../src/tensor/random.js';
import { fixtureInputs, modelPath, runFile, withTempDir } from '../helpers/fixtures.js';

const N = 200;

function randomInput(shape: number[], seed: number): NdArray {
  const rng = createRng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.nextFloat() * 4 - 2;
  return { dtype: 'float32', shape, data };
}

function randomLabels(n: number, classes: number, seed: number): Int32Array {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => rng.nextUint32() % classes);
}

function argmaxRows(data: Float32Array, classes: number): Int32Array {
  const out = new Int32Array(data.length / classes);
  for (let i = 0; i < out.length; i++) {
    for (let c = 1; c < classes; c++) if (data[i * classes + c] > data[i * classes + out[i]]) out[i] = c;
  }
  return out;
}

describe('evaluate', () => {
  it('a model against itself: agreement 100%, SQNR Infinity, same accuracy as computed here', async () => {
    const model = loadModel(modelPath('mlp'));
    const input = randomInput([N, 64], 1);
    const labels = randomLabels(N, 10, 2);
    const r = await evaluate(model, recordBatches({ input }, 16), {
      reference: model,
      labels,
      latency: { runs: 5 },
    });
    const expected = (await runFile(modelPath('mlp'), { input })).output.data as Float32Array;
    const classes = argmaxRows(expected, 10);
    const correct = classes.reduce((n, c, i) => n + (c === labels[i] ? 1 : 0), 0);
    assert.equal(r.samples, N);
    assert.equal(r.output, 'output');
    assert.equal(r.accuracy, correct / N);
    assert.equal(r.reference!.accuracy, r.accuracy);
    assert.equal(r.agreement, 1);
    assert.equal(r.sqnrDb, Infinity);
    assert.equal(r.outputsIdentical, true);
    assert.equal(r.cosine, 1);
    assert.equal(r.maxAbsError, 0);
    assert.equal(r.comparison!.sizeRatio, 1);
    assert.equal(r.comparison!.accuracyDelta, 0);
    assert.deepEqual(Object.keys(r.outputs!), ['output']);
    // Time is never asserted, only that both models were timed the same way.
    for (const l of [r.latencyMs!, r.reference!.latencyMs!]) {
      assert.deepEqual([l.batch, l.runs, l.threads], [16, 5, 1]);
      assert.ok(l.median > 0 && l.p90 >= l.median);
    }
    assert.ok(Number.isFinite(r.comparison!.speedup));
    assert.equal(r.cpu!.arch, process.arch);
    model.dispose();
  });

  it('a perturbed copy: agreement and SQNR match values computed from both models’ raw outputs', async () => {
    await withTempDir(async (dir) => {
      const original = loadModel(modelPath('mlp'));
      const perturbed = loadModel(modelPath('mlp'));
      const w = perturbed.graph.findInitializer('fc2.weight')!;
      const scaled = Float32Array.from(w.toFloat32(), (v) => v * 1.5);
      perturbed.graph.removeInitializer(w.name);
      perturbed.graph.addInitializer(Tensor.fromArray(w.name, 'float32', w.dims, scaled));
      const path = join(dir, 'perturbed.onnx');
      saveModel(perturbed, path);

      const input = randomInput([N, 64], 3);
      const labels = randomLabels(N, 10, 4);
      const r = await evaluate(perturbed, recordBatches({ input }, 7), {
        reference: original,
        labels,
        latency: false,
      });

      const x = (await runFile(modelPath('mlp'), { input })).output.data as Float32Array;
      const y = (await runFile(path, { input })).output.data as Float32Array;
      let signal = 0;
      let noise = 0;
      let maxAbs = 0;
      for (let i = 0; i < x.length; i++) {
        signal += x[i] * x[i];
        noise += (x[i] - y[i]) ** 2;
        maxAbs = Math.max(maxAbs, Math.abs(x[i] - y[i]));
      }
      const cx = argmaxRows(x, 10);
      const cy = argmaxRows(y, 10);
      const agree = cx.reduce((n, c, i) => n + (c === cy[i] ? 1 : 0), 0) / N;
      const acc = cy.reduce((n, c, i) => n + (c === labels[i] ? 1 : 0), 0) / N;
      const refAcc = cx.reduce((n, c, i) => n + (c === labels[i] ? 1 : 0), 0) / N;

      assert.ok(agree < 1 && agree > 0.3, `agreement ${agree}`);
      assert.equal(r.agreement, agree);
      assert.ok(Number.isFinite(r.sqnrDb));
      assert.ok(Math.abs(r.sqnrDb! - 10 * Math.log10(signal / noise)) < 1e-3, `${r.sqnrDb}`);
      assert.ok(Math.abs(r.maxAbsError! - maxAbs) < 1e-4);
      assert.equal(r.outputsIdentical, false);
      assert.equal(r.accuracy, acc);
      assert.equal(r.comparison!.accuracyDelta, acc - refAcc);
      assert.equal(r.latencyMs, undefined);
      original.dispose();
      perturbed.dispose();
    });
  });

  it('float16 outputs are decoded: SQNR of float16 rounding, computed here', async () => {
    const graph = (op: string, dtype: 'float16' | 'float32') =>
      makeModel(
        makeGraph({
          nodes: [
            new Node(op, ['x'], ['y'], {
              attributes: op === 'Cast' ? [Attribute.int('to', 10)] : [],
            }),
          ],
          inputs: [makeValueInfo('x', 'float32', ['n', 5])],
          outputs: [makeValueInfo('y', dtype, ['n', 5])],
        }),
      );
    const input = randomInput([40, 5], 5);
    const r = await evaluate(graph('Cast', 'float16'), recordBatches({ x: input }, 8), {
      reference: graph('Identity', 'float32'),
      latency: false,
    });
    let signal = 0;
    let noise = 0;
    for (const v of input.data as Float32Array) {
      signal += v * v;
      noise += (v - float16BitsToFloat32(float32ToFloat16Bits(v))) ** 2;
    }
    assert.ok(Math.abs(r.sqnrDb! - 10 * Math.log10(signal / noise)) < 1e-9, `${r.sqnrDb}`);
    assert.ok(r.sqnrDb! > 60 && r.sqnrDb! < 80);
  });

  it('--output chooses the classifier output among several', async () => {
    // 'up' scores x, 'down' scores −x: with labels = argmax(x), 'up' is always right and 'down' never.
    const model = makeModel(
      makeGraph({
        nodes: [new Node('Identity', ['x'], ['up']), new Node('Neg', ['x'], ['down'])],
        inputs: [makeValueInfo('x', 'float32', ['n', 4])],
        outputs: [makeValueInfo('up', 'float32', ['n', 4]), makeValueInfo('down', 'float32', ['n', 4])],
      }),
    );
    const input = randomInput([30, 4], 6);
    const labels = argmaxRows(input.data as Float32Array, 4);
    const opts = { labels, latency: false } as const;
    assert.equal((await evaluate(model, recordBatches({ x: input }, 8), opts)).accuracy, 1);
    const down = await evaluate(model, recordBatches({ x: input }, 8), { ...opts, output: 'down' });
    assert.equal(down.accuracy, 0);
    assert.equal(down.output, 'down');
    await assert.rejects(
      evaluate(model, recordBatches({ x: input }, 8), { ...opts, output: 'nope' }),
      /no numeric output 'nope'.*outputs: up, down/,
    );
  });

  it('every numeric output of a many-typed model is compared; strings are skipped', async () => {
    const model = loadModel(modelPath('dtypes'));
    const r = await evaluate(model, recordBatches(fixtureInputs('dtypes'), 2), {
      reference: model,
      latency: false,
    });
    const names = model.graph.outputs.map((o) => o.name).filter((n) => n !== 'string_data_out');
    assert.deepEqual(Object.keys(r.outputs!), names);
    assert.ok(Object.values(r.outputs!).every((o) => o.outputsIdentical));
    assert.equal(r.samples, fixtureInputs('dtypes').input.shape[0]);
    model.dispose();
  });

  it('the latency batch has the requested size even when the data is smaller', async () => {
    const model = loadModel(modelPath('cnn_bn'));
    const r = await evaluate(model, recordBatches(fixtureInputs('cnn_bn'), 2), {
      batchSize: 8,
      latency: { runs: 3, warmup: 1 },
    });
    assert.equal(r.samples, 3);
    assert.equal(r.latencyMs!.batch, 8);
    assert.equal(r.reference, undefined);
    assert.equal(r.accuracy, undefined);
    model.dispose();
  });
});
