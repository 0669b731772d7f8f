import { describe, it } from 'node:test';
import { Attribute } from '../../src/onnx/attribute.js';
import { Node } from '../../src/onnx/node.js';
import { checkOneNode, type OperandSpec } from './gradient-check.js';

const param = (name: string, shape: number[]): OperandSpec => ({ name, shape, role: 'param' });
const ints = (name: string, values: number[]): OperandSpec => ({
  name,
  shape: [values.length],
  role: 'const',
  values: { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) },
});

describe('autodiff: data movement (float64, central differences in ONNX Runtime)', () => {
  it('Reshape with 0 and -1', async () => {
    await checkOneNode({
      op: 'Reshape',
      dtype: 'float64',
      operands: [param('x', [2, 3, 4]), ints('s', [0, -1, 2])],
    });
  });

  it('Flatten axis 2', async () => {
    await checkOneNode({
      op: 'Flatten',
      dtype: 'float64',
      operands: [param('x', [2, 3, 4])],
      attributes: [Attribute.int('axis', 2)],
    });
  });

  it('Transpose with a permutation, and with none', async () => {
    await checkOneNode({
      op: 'Transpose',
      dtype: 'float64',
      operands: [param('x', [2, 3, 4])],
      attributes: [Attribute.ints('perm', [1, 2, 0])],
    });
    await checkOneNode({ op: 'Transpose', dtype: 'float64', operands: [param('x', [2, 3, 4])] });
  });

  it('Squeeze and Unsqueeze', async () => {
    await checkOneNode({
      op: 'Squeeze',
      dtype: 'float64',
      operands: [param('x', [2, 1, 4, 1]), ints('a', [1, -1])],
    });
    await checkOneNode({
      op: 'Unsqueeze',
      dtype: 'float64',
      operands: [param('x', [2, 4]), ints('a', [0, -1])],
    });
  });

  it('Concat of three along axis 1', async () => {
    await checkOneNode({
      op: 'Concat',
      dtype: 'float64',
      operands: [param('a', [2, 1, 3]), param('b', [2, 4, 3]), param('c', [2, 2, 3])],
      attributes: [Attribute.int('axis', 1)],
    });
  });

  it('Split into unequal parts, one of them unused', async () => {
    await checkOneNode({
      op: 'Split',
      dtype: 'float64',
      operands: [param('x', [2, 7]), ints('sizes', [2, 4, 1])],
      attributes: [Attribute.int('axis', 1)],
      outputs: ['p', 'q', 'r'],
      lossFrom: ['p', 'r'],
    });
  });

  it('Slice with steps, negative steps and negative ends', async () => {
    await checkOneNode({
      op: 'Slice',
      dtype: 'float64',
      operands: [
        param('x', [5, 6, 4]),
        ints('starts', [1, -1]),
        ints('ends', [5, -7]),
        ints('axes', [0, 1]),
        ints('steps', [2, -2]),
      ],
    });
    await checkOneNode({
      op: 'Slice',
      dtype: 'float64',
      operands: [param('x', [5, 6]), ints('starts', [1]), ints('ends', [-1])],
    });
  });

  it('Gather with repeated and negative indices (embedding rows), and along axis 1', async () => {
    const idx = (values: number[], shape: number[]): OperandSpec => ({
      name: 'i',
      shape,
      role: 'const',
      values: { dtype: 'int64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)) },
    });
    await checkOneNode({
      op: 'Gather',
      dtype: 'float64',
      operands: [param('emb', [6, 3]), idx([1, 4, 1, -1, 1, 0], [2, 3])],
    });
    await checkOneNode({
      op: 'Gather',
      dtype: 'float64',
      operands: [param('x', [2, 5, 3]), idx([4, 4, 0], [3])],
      attributes: [Attribute.int('axis', 1)],
    });
  });

  it('GatherElements with repeated indices', async () => {
    const idx: OperandSpec = {
      name: 'i',
      shape: [2, 4],
      role: 'const',
      values: { dtype: 'int64', shape: [2, 4], data: BigInt64Array.of(0n, 2n, 2n, -1n, 1n, 1n, 0n, 1n) },
    };
    await checkOneNode({
      op: 'GatherElements',
      dtype: 'float64',
      operands: [param('x', [2, 3]), idx],
      attributes: [Attribute.int('axis', 1)],
    });
  });

  it('Dropout in inference form is the identity', async () => {
    await checkOneNode({ op: 'Dropout', dtype: 'float64', operands: [param('x', [2, 3])] });
  });

  it('Expand and Where', async () => {
    await checkOneNode({
      op: 'Expand',
      dtype: 'float64',
      operands: [param('x', [3, 1]), ints('s', [2, 3, 4])],
    });
    const mask: OperandSpec = {
      name: 'c',
      shape: [3, 1],
      role: 'const',
      values: { dtype: 'bool', shape: [3, 1], data: Uint8Array.of(1, 0, 1) },
    };
    await checkOneNode({
      op: 'Where',
      dtype: 'float64',
      operands: [mask, param('a', [3, 4]), param('b', [4])],
    });
  });

  it('Cast float64 → float32 → float64 passes the gradient back', async () => {
    await checkOneNode(
      {
        op: 'Cast',
        dtype: 'float64',
        operands: [param('x', [2, 3])],
        attributes: [Attribute.int('to', 1)],
        outputs: ['y32'],
        extraNodes: [new Node('Cast', ['y32'], ['y'], { attributes: [Attribute.int('to', 11)] })],
        lossFrom: ['y'],
      },
      { h: 1e-3 },
    );
  });

  for (const op of ['ReduceSum', 'ReduceMean']) {
    it(`${op}: axes as input, keepdims 0 and 1, and all axes`, async () => {
      for (const keepdims of [0, 1]) {
        await checkOneNode({
          op,
          dtype: 'float64',
          opset: 18,
          operands: [param('x', [2, 3, 4]), ints('axes', [-1, 0])],
          attributes: [Attribute.int('keepdims', keepdims)],
        });
        await checkOneNode({
          op,
          dtype: 'float64',
          opset: 18,
          operands: [param('x', [2, 3, 4])],
          attributes: [Attribute.int('keepdims', keepdims)],
        });
      }
    });
  }

  it('ReduceMean with axes as an attribute (opset 17)', async () => {
    await checkOneNode({
      op: 'ReduceMean',
      dtype: 'float64',
      operands: [param('x', [2, 3, 4])],
      attributes: [Attribute.ints('axes', [1]), Attribute.int('keepdims', 0)],
    });
  });
});
