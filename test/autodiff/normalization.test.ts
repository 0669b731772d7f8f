import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toTrainingBatchNorm } from '../../src/autodiff/batchnorm-training.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Node } from '../../src/onnx/node.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';
import {
  checkGradients,
  checkOneNode,
  type OperandSpec,
  randomArray,
  tensorOf,
  withWeightedSumLoss,
} from './gradient-check.js';

const param = (name: string, shape: number[], lo = -1, hi = 1): OperandSpec => ({
  name,
  shape,
  role: 'param',
  lo,
  hi,
});

function bnOperands(x: number[]): OperandSpec[] {
  const c = [x[1]];
  return [
    param('x', x),
    param('scale', c, 0.5, 1.5),
    param('bias', c),
    param('mean', c),
    param('var', c, 0.5, 2),
  ];
}

describe('autodiff: normalization (float64, central differences in ONNX Runtime)', () => {
  it('BatchNormalization, inference form, all five inputs (4-D and 3-D)', async () => {
    await checkOneNode({ op: 'BatchNormalization', dtype: 'float64', operands: bnOperands([2, 3, 4, 5]) });
    await checkOneNode({
      op: 'BatchNormalization',
      dtype: 'float64',
      operands: bnOperands([3, 2, 4]),
      attributes: [Attribute.float('epsilon', 0.01)],
    });
  });

  for (const axis of [-1, 1]) {
    it(`LayerNormalization axis ${axis} with scale and bias`, async () => {
      const normalized = axis === -1 ? [4] : [3, 4];
      await checkOneNode({
        op: 'LayerNormalization',
        dtype: 'float64',
        operands: [param('x', [2, 3, 4]), param('scale', normalized, 0.5, 1.5), param('bias', normalized)],
        attributes: [Attribute.int('axis', axis), Attribute.float('epsilon', 1e-3)],
      });
    });
  }
});

describe('toTrainingBatchNorm', () => {
  const shape = [4, 3, 5, 5];
  const x = randomArray('float64', shape, 3, -2, 3);
  const model = () =>
    makeModel(
      makeGraph({
        nodes: [
          new Node('BatchNormalization', ['x', 's', 'b', 'rm', 'rv'], ['y'], {
            name: 'bn',
            attributes: [Attribute.float('epsilon', 1e-3)],
          }),
        ],
        inputs: [makeValueInfo('x', 'float64', ['N', 3, 5, 5])],
        outputs: [makeValueInfo('y', 'float64', ['N', 3, 5, 5])],
        initializers: [
          tensorOf('s', randomArray('float64', [3], 4, 0.5, 1.5)),
          tensorOf('b', randomArray('float64', [3], 5)),
          tensorOf('rm', randomArray('float64', [3], 6)),
          tensorOf('rv', randomArray('float64', [3], 7, 0.5, 2)),
        ],
      }),
      { opsets: { '': 15 } },
    );

  it("normalises with the batch statistics: ONNX Runtime's own BatchNormalization given them agrees", async () => {
    const { model: training, statistics } = toTrainingBatchNorm(model());
    assert.equal(statistics.length, 1);
    const [st] = statistics;
    assert.deepEqual([st.runningMean, st.runningVariance, st.momentum], ['rm', 'rv', 0.9]);
    const runner = await Runner.create(training, { extraOutputs: [st.mean, st.variance] });
    const out = await runner.run({ x }, ['y', st.mean, st.variance]);
    await runner.release();
    // Batch statistics by hand.
    const [n, c, hw] = [shape[0], shape[1], shape[2] * shape[3]];
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) s += x.data[(i * c + k) * hw + j] as number;
      mean[k] = s / (n * hw);
      let q = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < hw; j++) q += ((x.data[(i * c + k) * hw + j] as number) - mean[k]) ** 2;
      variance[k] = q / (n * hw);
    }
    for (let k = 0; k < c; k++) {
      assert.ok(Math.abs((out[st.mean].data[k] as number) - mean[k]) < 1e-12);
      assert.ok(Math.abs((out[st.variance].data[k] as number) - variance[k]) < 1e-12);
    }
    // The reference: ONNX Runtime's inference BatchNormalization with the batch statistics as its running ones.
    const reference = model();
    reference.graph.addInitializer(tensorOf('rm', { dtype: 'float64', shape: [3], data: mean }));
    reference.graph.addInitializer(tensorOf('rv', { dtype: 'float64', shape: [3], data: variance }));
    const refRunner = await Runner.create(reference);
    const want = (await refRunner.run({ x }, ['y'])).y.data as Float64Array;
    await refRunner.release();
    const got = out.y.data as Float64Array;
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-9, `y[${i}]`);
  });

  it('differentiates through the batch statistics (input, scale, bias)', async () => {
    const { model: training } = toTrainingBatchNorm(model());
    const withLoss = await withWeightedSumLoss(training, ['y'], { x }, 'float64');
    withLoss.graph.inputs = withLoss.graph.inputs.filter((i) => i.name !== 'x');
    withLoss.graph.addInitializer(tensorOf('x', x));
    await checkGradients(withLoss, 'loss', ['x', 's', 'b'], {}, { maxElements: 120 });
  });
});
