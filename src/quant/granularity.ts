/**
 * Which scale/zero point each element of a tensor uses: one for the whole tensor, one per index of an
 * axis, or one per block of consecutive elements along an axis (ONNX opset-21 blocked quantization).
 */

import { QuantkitError } from '../errors.js';

export type Granularity =
  { kind: 'tensor' } | { kind: 'axis'; axis: number } | { kind: 'block'; axis: number; blockSize: number };

/**
 * The tensor seen as [outer, dim, inner] around the quantization axis. Element (o, d, i), at flat index
 * (o·dim + d)·inner + i, uses parameter o·outerStride + floor(d / blockSize)·dimStride + i·innerStride;
 * one loop nest over (o, d, i) thus serves all three granularities.
 */
export interface ParamLayout {
  outer: number;
  dim: number;
  inner: number;
  blockSize: number;
  outerStride: number;
  dimStride: number;
  innerStride: number;
  /** Shape of the scale and zero-point tensors: [] per tensor, [D] per axis, the blocked shape per block. */
  paramShape: number[];
  paramCount: number;
}

export function paramLayout(shape: readonly number[], granularity: Granularity): ParamLayout {
  const total = product(shape, 0, shape.length);
  if (granularity.kind === 'tensor') {
    return {
      outer: 1,
      dim: 1,
      inner: total,
      blockSize: 1,
      outerStride: 0,
      dimStride: 0,
      innerStride: 0,
      paramShape: [],
      paramCount: 1,
    };
  }
  const axis = normalizeAxis(granularity.axis, shape.length);
  const outer = product(shape, 0, axis);
  const dim = shape[axis];
  const inner = product(shape, axis + 1, shape.length);
  if (granularity.kind === 'axis') {
    return {
      outer,
      dim,
      inner,
      blockSize: 1,
      outerStride: 0,
      dimStride: 1,
      innerStride: 0,
      paramShape: [dim],
      paramCount: dim,
    };
  }
  const { blockSize } = granularity;
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new QuantkitError(`block size must be a positive integer, got ${blockSize}`);
  }
  const blocks = Math.ceil(dim / blockSize);
  const paramShape = [...shape];
  paramShape[axis] = blocks;
  return {
    outer,
    dim,
    inner,
    blockSize,
    outerStride: blocks * inner,
    dimStride: inner,
    innerStride: 1,
    paramShape,
    paramCount: outer * blocks * inner,
  };
}

export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new QuantkitError(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

function product(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let k = from; k < to; k++) n *= shape[k];
  return n;
}
