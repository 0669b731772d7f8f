// quantize/dequantize against ONNX Runtime's QuantizeLinear/DequantizeLinear (opset 21, CPU), bit for bit,
// for every quantization type, per tensor, per axis and per block.
//
// ONNX Runtime 1.30 has CPU kernels for all 36 combinations (6 types x Q/DQ x 3 granularities), blocked ones
// included, so nothing is skipped. onnxruntime-node cannot take or return int4/uint4 tensors, so 4-bit zero
// points and DequantizeLinear inputs are initializers (packed raw_data) and 4-bit outputs are read through
// an exact Cast to int8/uint8.
//
// Out of the data: |x / S| >= 2^31 (and ±Inf) outside per-tensor quantization. Those of ONNX Runtime's paths
// that convert to int32 before clamping (blocked along a non-innermost axis for every type; int4/uint4 per
// axis along the innermost axis) saturate such values to the wrong end of the range, while we saturate as
// the ONNX spec says. Per-tensor quantization clamps in float first and is tested with them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { dequantize } from '../../src/quant/dequantize.js';
import type { Granularity } from '../../src/quant/granularity.js';
import { computeQParams, type QuantParams } from '../../src/quant/qparams.js';
import { type QuantizedArray, quantize, quantizedArrayFor } from '../../src/quant/quantize.js';
import { QUANT_TYPES, type QuantType } from '../../src/quant/types.js';
import { createRng, type Rng } from '../../src/tensor/random.js';
import { type InitializerSpec, runOneNode, type ValueSpec } from '../helpers/one-node-model.js';

interface Case {
  label: string;
  shape: number[];
  granularity: Granularity;
}

const CASES: Case[] = [
  { label: 'per tensor', shape: [4099], granularity: { kind: 'tensor' } },
  { label: 'per axis 0', shape: [5, 7, 3], granularity: { kind: 'axis', axis: 0 } },
  { label: 'per axis 1 of 3', shape: [5, 7, 3], granularity: { kind: 'axis', axis: 1 } },
  { label: 'per axis, innermost', shape: [6, 9], granularity: { kind: 'axis', axis: -1 } },
  {
    label: 'per block, innermost axis',
    shape: [6, 37],
    granularity: { kind: 'block', axis: 1, blockSize: 8 },
  },
  { label: 'per block, axis 0', shape: [37, 6], granularity: { kind: 'block', axis: 0, blockSize: 16 } },
  {
    label: 'per block, middle axis',
    shape: [3, 21, 5],
    granularity: { kind: 'block', axis: 1, blockSize: 4 },
  },
];

const RANGES: Record<QuantType, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int4: [-8, 7],
  uint4: [0, 15],
};

const is4Bit = (type: QuantType) => type === 'int4' || type === 'uint4';

/** The shape of the scale tensor and each element's parameter index, from the ONNX spec's definition. */
function paramIndexing(
  shape: number[],
  g: Granularity,
): { paramShape: number[]; indexOf: (flat: number) => number } {
  if (g.kind === 'tensor') return { paramShape: [], indexOf: () => 0 };
  const axis = g.axis < 0 ? g.axis + shape.length : g.axis;
  const paramShape =
    g.kind === 'axis' ? [shape[axis]] : shape.map((d, k) => (k === axis ? Math.ceil(d / g.blockSize) : d));
  const indexOf = (flat: number) => {
    const coord = new Array<number>(shape.length);
    for (let k = shape.length - 1; k >= 0; k--) {
      coord[k] = flat % shape[k];
      flat = Math.floor(flat / shape[k]);
    }
    if (g.kind === 'axis') return coord[axis];
    coord[axis] = Math.floor(coord[axis] / g.blockSize);
    return coord.reduce((acc, c, k) => acc * paramShape[k] + c, 0);
  };
  return { paramShape, indexOf };
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function randomParams(rng: Rng, type: QuantType, g: Granularity, paramShape: number[]): QuantParams {
  const [qmin, qmax] = RANGES[type];
  const n = count(paramShape);
  const scale = new Float32Array(n);
  const zeroPoint = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    // Half the scales have a short mantissa so that (k + 0.5)·S is exact and x / S an exact tie;
    // the others are arbitrary float32 values.
    scale[p] =
      p % 2 === 0
        ? [1, 0.75, 0.625, 0.9375][rng.nextUint32() % 4] * 2 ** ((rng.nextUint32() % 16) - 12)
        : 10 ** (rng.nextFloat() * 5 - 4) * (1 + rng.nextFloat());
    zeroPoint[p] = qmin + (rng.nextUint32() % (qmax - qmin + 1));
  }
  return { type, granularity: g, shape: paramShape, scale, zeroPoint };
}

function randomInputs(rng: Rng, c: Case, params: QuantParams): Float32Array {
  const [qmin, qmax] = RANGES[params.type];
  const { indexOf } = paramIndexing(c.shape, c.granularity);
  const x = new Float32Array(count(c.shape));
  const bits = new Uint32Array(x.buffer);
  for (let i = 0; i < x.length; i++) {
    const p = indexOf(i);
    const s = params.scale[p];
    const z = params.zeroPoint[p];
    const span = qmax - qmin;
    const k = qmin - z - 3 + (rng.nextUint32() % (span + 6)); // codes around and just beyond the range
    const r = rng.nextFloat();
    if (r < 0.3)
      x[i] = (k + 0.5) * s; // a tie after division
    else if (r < 0.4) x[i] = k * s;
    else if (r < 0.5) {
      x[i] = (k + 0.5) * s; // one float32 step beside a tie
      bits[i] += rng.nextFloat() < 0.5 ? 1 : -1;
    } else if (r < 0.65) x[i] = (rng.nextFloat() < 0.5 ? -1 : 1) * s * span * (2 + rng.nextFloat() * 10_000);
    else if (r < 0.7) x[i] = 0;
    else if (r < 0.75) x[i] = -0;
    else x[i] = (qmin - z + rng.nextFloat() * span) * s;
  }
  if (c.granularity.kind === 'tensor') {
    x.set([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38, -3e38, 1e30, -1e30, Number.NaN], 0);
  }
  return x;
}

/** Packs 4-bit values two per byte, low nibble first (ONNX's layout), for initializers. */
function packNibbles(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) out[i >> 1] |= (values[i] & 0x0f) << ((i & 1) * 4);
  return out;
}

function zeroPointInput(params: QuantParams): { spec: ValueSpec | InitializerSpec; feed?: ort.Tensor } {
  const { type, shape } = params;
  if (is4Bit(type)) return { spec: { name: 'z', type, shape, raw: packNibbles(params.zeroPoint) } };
  const data = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array }[
    type as 'int8'
  ].from(params.zeroPoint);
  return { spec: { name: 'z', type, shape }, feed: new ort.Tensor(type, data, shape) };
}

function attributesOf(g: Granularity): Record<string, number> {
  if (g.kind === 'tensor') return {};
  if (g.kind === 'axis') return { axis: g.axis };
  return { axis: g.axis, block_size: g.blockSize };
}

async function ortQuantize(
  x: Float32Array,
  shape: number[],
  params: QuantParams,
): Promise<ArrayLike<number>> {
  const z = zeroPointInput(params);
  const readAs = params.type === 'int4' ? 'int8' : params.type === 'uint4' ? 'uint8' : undefined;
  const result = await runOneNode(
    {
      opType: 'QuantizeLinear',
      opset: 21,
      inputs: [
        { name: 'x', type: 'float32', shape },
        { name: 's', type: 'float32', shape: params.shape },
        z.spec,
      ],
      outputs: [{ name: 'y', type: params.type, shape, readAs }],
      attributes: attributesOf(params.granularity),
    },
    {
      x: new ort.Tensor('float32', x, shape),
      s: new ort.Tensor('float32', params.scale, params.shape),
      ...(z.feed ? { z: z.feed } : {}),
    },
  );
  return result.y.data as ArrayLike<number>;
}

async function ortDequantize(q: QuantizedArray, shape: number[], params: QuantParams): Promise<Float32Array> {
  const z = zeroPointInput(params);
  const qSpec: ValueSpec | InitializerSpec = is4Bit(params.type)
    ? { name: 'q', type: params.type, shape, raw: packNibbles(q) }
    : { name: 'q', type: params.type, shape };
  const result = await runOneNode(
    {
      opType: 'DequantizeLinear',
      opset: 21,
      inputs: [qSpec, { name: 's', type: 'float32', shape: params.shape }, z.spec],
      outputs: [{ name: 'y', type: 'float32', shape }],
      attributes: attributesOf(params.granularity),
    },
    {
      ...(is4Bit(params.type) ? {} : { q: new ort.Tensor(params.type as 'int8', q as Int8Array, shape) }),
      s: new ort.Tensor('float32', params.scale, params.shape),
      ...(z.feed ? { z: z.feed } : {}),
    },
  );
  return result.y.data as Float32Array;
}

function assertSameCodes(
  ours: QuantizedArray,
  theirs: ArrayLike<number>,
  x: Float32Array,
  params: QuantParams,
  c: Case,
) {
  const { indexOf } = paramIndexing(c.shape, c.granularity);
  assert.equal(ours.length, theirs.length);
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== theirs[i]) {
      const p = indexOf(i);
      assert.fail(
        `element ${i}: x = ${x[i]}, S = ${params.scale[p]}, Z = ${params.zeroPoint[p]}: ours ${ours[i]}, ORT ${theirs[i]}`,
      );
    }
  }
}

for (const type of QUANT_TYPES) {
  for (const c of CASES) {
    test(`QuantizeLinear ${type} ${c.label}: random scales, ties, saturation, ±0`, async () => {
      const rng = createRng(1000 + QUANT_TYPES.indexOf(type) * 100 + CASES.indexOf(c));
      const { paramShape } = paramIndexing(c.shape, c.granularity);
      const params = randomParams(rng, type, c.granularity, paramShape);
      const x = randomInputs(rng, c, params);
      assertSameCodes(quantize(x, c.shape, params), await ortQuantize(x, c.shape, params), x, params, c);
    });

    test(`QuantizeLinear ${type} ${c.label}: scales computed from the data`, async () => {
      const rng = createRng(5000 + QUANT_TYPES.indexOf(type) * 100 + CASES.indexOf(c));
      const x = Float32Array.from(
        { length: count(c.shape) },
        () => (rng.nextFloat() - 0.3) * 10 ** (rng.nextFloat() * 4 - 2),
      );
      const symmetric = type.startsWith('int');
      const params = computeQParams('x', x, c.shape, c.granularity, { type, symmetric });
      assertSameCodes(quantize(x, c.shape, params), await ortQuantize(x, c.shape, params), x, params, c);
    });

    test(`DequantizeLinear ${type} ${c.label}: every code, random scales`, async () => {
      const rng = createRng(9000 + QUANT_TYPES.indexOf(type) * 100 + CASES.indexOf(c));
      const [qmin, qmax] = RANGES[type];
      const { paramShape } = paramIndexing(c.shape, c.granularity);
      const params = randomParams(rng, type, c.granularity, paramShape);
      const n = count(c.shape);
      const q = quantizedArrayFor(type, n);
      for (let i = 0; i < n; i++)
        q[i] = i < 2 ? [qmin, qmax][i] : qmin + (rng.nextUint32() % (qmax - qmin + 1));
      const ours = new Uint32Array(dequantize(q, c.shape, params).buffer);
      const theirs = new Uint32Array((await ortDequantize(q, c.shape, params)).buffer);
      for (let i = 0; i < n; i++) {
        if (ours[i] !== theirs[i])
          assert.fail(
            `element ${i} (q = ${q[i]}): ours 0x${ours[i].toString(16)}, ORT 0x${theirs[i].toString(16)}`,
          );
      }
    });
  }
}
