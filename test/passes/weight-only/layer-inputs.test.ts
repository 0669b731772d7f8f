// Layer-input statistics computed inside ONNX Runtime (XᵀX, Σ|x|, row count), summed over batches,
// against the same sums over the activations computed here; nothing past the observed layer is run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordBatches } from '../../../src/data/batches.js';
import { makeGraph, makeModel } from '../../../src/onnx/builders.js';
import { inferDtypes } from '../../../src/onnx/infer-dtypes.js';
import { Node } from '../../../src/onnx/node.js';
import { makeValueInfo } from '../../../src/onnx/value-info.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { collectInputStatistics, statisticsModel } from '../../../src/passes/weight-only/layer-inputs.js';
import { Runner } from '../../../src/runtime/session.js';
import { randomInput, randomTensor } from '../../helpers/tiny-models.js';

const K = 6;

async function* asAsync<T>(items: Iterable<T>) {
  yield* items;
}

describe('layer-input statistics', () => {
  it('XᵀX and Σ|x| of a 3-D activation, over batches, as float64 sums of its rows', async () => {
    const model = makeModel(
      makeGraph({
        nodes: [
          new Node('Relu', ['x'], ['r']),
          new Node('MatMul', ['r', 'w'], ['h']),
          new Node('Tanh', ['h'], ['y']),
        ],
        inputs: [makeValueInfo('x', 'float32', ['n', 3, K])],
        outputs: [makeValueInfo('y', 'float32', ['n', 3, 4])],
        initializers: [randomTensor('w', [K, 4], 2)],
      }),
    );
    const x = randomInput([5, 3, K], 1);
    const requests = [
      { value: 'x', k: K, absSum: false },
      { value: 'r', k: K, absSum: true },
    ];
    const built = statisticsModel(model, requests, inferDtypes(model));
    assert.deepEqual(
      built.model.graph.nodes.filter(
        (n) => n.opType === 'Tanh' || (n.opType === 'MatMul' && n.inputs[1] === 'w'),
      ),
      [],
    );
    const runner = await Runner.create(built.model);
    const batches = recordBatches({ x: { dtype: 'float32', shape: [5, 3, K], data: x } }, 2);
    const numeric = {
      run: async (f: Record<string, NdArray>, k: readonly string[]) =>
        (await runner.run(f, k)) as Record<string, NdArray>,
    };
    const stats = await collectInputStatistics(numeric, asAsync(batches), requests, built.outputs);
    await runner.release();
    for (const [value, f] of [
      ['x', (v: number) => v],
      ['r', (v: number) => Math.max(v, 0)],
    ] as const) {
      const s = stats.get(value)!;
      assert.equal(s.rows, 15);
      const rows = Float64Array.from(x, f);
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) {
          let g = 0;
          for (let r = 0; r < 15; r++) g += rows[r * K + i] * rows[r * K + j];
          assert.ok(Math.abs(s.gram[i * K + j] - g) < 1e-5, `${value} [${i}, ${j}]`);
        }
      }
      if (value === 'r') {
        const mean = s.absMean();
        for (let i = 0; i < K; i++) {
          let a = 0;
          for (let r = 0; r < 15; r++) a += Math.abs(rows[r * K + i]);
          assert.ok(Math.abs(mean[i] - a / 15) < 1e-6);
        }
      }
    }
  });
});
