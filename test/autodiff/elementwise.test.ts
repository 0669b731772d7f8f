import { describe, it } from 'node:test';
import { checkOneNode, type OperandSpec } from './gradient-check.js';

const param = (name: string, shape: number[], lo?: number, hi?: number): OperandSpec => ({
  name,
  shape,
  role: 'param',
  lo,
  hi,
});

describe('autodiff: arithmetic with broadcasting (float64, central differences in ONNX Runtime)', () => {
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    it(`${op}: [2,3,4] with [3,1], [4], a scalar and the same shape`, async () => {
      for (const b of [[3, 1], [4], [], [2, 3, 4], [1, 3, 4]]) {
        await checkOneNode({
          op,
          dtype: 'float64',
          operands: [param('a', [2, 3, 4]), param('b', b, op === 'Div' ? 0.5 : -1, op === 'Div' ? 2 : 1)],
        });
      }
    });
  }

  it('Add where the first operand is the broadcast one', async () => {
    await checkOneNode({ op: 'Add', dtype: 'float64', operands: [param('a', [1, 4]), param('b', [3, 1])] });
  });

  it('Pow: base and exponent', async () => {
    await checkOneNode({
      op: 'Pow',
      dtype: 'float64',
      operands: [param('a', [2, 3], 0.5, 2), param('b', [3], -2, 2)],
    });
  });

  it('Sum of three broadcasting operands', async () => {
    await checkOneNode({
      op: 'Sum',
      dtype: 'float64',
      operands: [param('a', [2, 3]), param('b', [3]), param('c', [2, 1])],
    });
  });

  for (const op of ['Sqrt', 'Log', 'Exp', 'Neg', 'Reciprocal', 'Abs', 'Identity']) {
    it(op, async () => {
      await checkOneNode({ op, dtype: 'float64', operands: [param('x', [2, 5], 0.3, 2)] });
    });
  }
});
