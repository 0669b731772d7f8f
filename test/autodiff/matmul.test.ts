import { describe, it } from 'node:test';
import { Attribute } from '../../src/onnx/attribute.js';
import { checkOneNode, type OperandSpec } from './gradient-check.js';

const param = (name: string, shape: number[]): OperandSpec => ({ name, shape, role: 'param' });

describe('autodiff: matrix products (float64, central differences in ONNX Runtime)', () => {
  const cases: [string, number[], number[]][] = [
    ['2-D', [3, 4], [4, 5]],
    ['batched', [2, 3, 4], [2, 4, 5]],
    ['batched A, shared B', [2, 3, 4], [4, 5]],
    ['shared A, batched B', [3, 4], [2, 4, 5]],
    ['broadcast batch axes', [2, 1, 3, 4], [3, 4, 5]],
    ['1-D A', [4], [2, 4, 5]],
    ['1-D B', [2, 3, 4], [4]],
    ['both 1-D', [4], [4]],
  ];
  for (const [label, a, b] of cases) {
    it(`MatMul ${label}: [${a}]·[${b}]`, async () => {
      await checkOneNode({ op: 'MatMul', dtype: 'float64', operands: [param('a', a), param('b', b)] });
    });
  }

  for (const transA of [0, 1]) {
    for (const transB of [0, 1]) {
      it(`Gemm transA=${transA} transB=${transB} alpha=0.7 beta=1.3, C broadcast`, async () => {
        await checkOneNode({
          op: 'Gemm',
          dtype: 'float64',
          operands: [
            param('a', transA ? [4, 3] : [3, 4]),
            param('b', transB ? [5, 4] : [4, 5]),
            param('c', [5]),
          ],
          attributes: [
            Attribute.int('transA', transA),
            Attribute.int('transB', transB),
            Attribute.float('alpha', 0.7),
            Attribute.float('beta', 1.3),
          ],
        });
      });
    }
  }

  it('Gemm without C, and C of the full shape', async () => {
    await checkOneNode({ op: 'Gemm', dtype: 'float64', operands: [param('a', [3, 4]), param('b', [4, 5])] });
    await checkOneNode({
      op: 'Gemm',
      dtype: 'float64',
      operands: [param('a', [3, 4]), param('b', [4, 5]), param('c', [3, 5])],
    });
  });
});
