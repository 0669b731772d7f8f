/**
 * Static shapes, as far as they can be known without data: gradient rules need ranks (to transpose
 * the last two axes, to reshape per-channel vectors) and use known sizes to emit constants instead of
 * Shape/Gather chains. Dimensions the data decides (the batch) stay symbolic or null; a value whose
 * rank cannot be known is left out, and rules that need it say so.
 */
import type { Graph } from '../onnx/graph.js';
import type { Node } from '../onnx/node.js';
import type { Dim } from '../onnx/value-info.js';

export type Shape = Dim[];

/** What inference reads: known shapes, and the contents of small constant integer tensors. */
export interface ShapeSource {
  shape(name: string): Shape | undefined;
  ints(name: string): number[] | undefined;
  /**
   * The contents of a 1-D int64 value read as dimensions: a constant, or the output of Shape(v),
   * whose dimensions are v's (symbolic ones included).
   */
  dims(name: string): Shape | undefined;
}

/** Integer constants up to this many elements are read for shape inference. */
const SMALL_CONSTANT = 64;

/** Contents of a small integer initializer that no input overrides (what shapes and axes usually are). */
export function constantInts(g: Graph, name: string): number[] | undefined {
  const t = g.initializers.get(name);
  if (!t || (t.dtype !== 'int64' && t.dtype !== 'int32') || t.size > SMALL_CONSTANT) return undefined;
  if (g.isGraphInput(name)) return undefined;
  return Array.from(t.data() as ArrayLike<number | bigint>, Number);
}

/**
 * Shapes of a graph's values: those it declares (inputs, outputs, value_info, initializers), then
 * per operator in topological order.
 */
export function graphShapes(g: Graph): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const v of [...g.inputs, ...g.valueInfo.values(), ...g.outputs]) {
    const s = g.tensorType(v.name).shape;
    if (s) shapes.set(v.name, s);
  }
  for (const t of g.initializers.values()) shapes.set(t.name, [...t.dims]);
  const shapeOf = new Map<string, string>();
  for (const node of g.nodes) if (isFullShape(node)) shapeOf.set(node.outputs[0], node.inputs[0]);
  const src: ShapeSource = {
    shape: (n) => shapes.get(n),
    ints: (n) => constantInts(g, n),
    dims: (n) => constantInts(g, n) ?? (shapeOf.has(n) ? shapes.get(shapeOf.get(n)!) : undefined),
  };
  for (const node of g.topologicalOrder()) {
    outputShapes(node, src).forEach((s, i) => {
      const o = node.outputs[i];
      if (o && s && !shapes.has(o)) shapes.set(o, s);
    });
  }
  return shapes;
}

/** A Shape node giving the whole shape of its input. */
export function isFullShape(node: Node): boolean {
  return (
    node.opType === 'Shape' && node.isStandard && !node.hasAttribute('start') && !node.hasAttribute('end')
  );
}

const SAME_AS_INPUT = new Set([
  'Abs',
  'Cast',
  'CastLike',
  'Ceil',
  'Clip',
  'Cos',
  'Dropout',
  'Elu',
  'Erf',
  'Exp',
  'Floor',
  'Gelu',
  'HardSigmoid',
  'HardSwish',
  'Identity',
  'LeakyRelu',
  'Log',
  'LogSoftmax',
  'Neg',
  'Not',
  'Reciprocal',
  'Relu',
  'Round',
  'Selu',
  'Sigmoid',
  'Sign',
  'Sin',
  'Softmax',
  'Softplus',
  'Sqrt',
  'Tanh',
  'QuantizeLinear',
  'DequantizeLinear',
  'ScatterElements',
  'ScatterND',
  'Pad',
  'Tile',
]);

const BROADCASTING = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Sum',
  'Max',
  'Min',
  'Mean',
  'Where',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'PRelu',
  'Mod',
]);

/** The shapes of a node's outputs (undefined where unknown). */
export function outputShapes(node: Node, src: ShapeSource): (Shape | undefined)[] {
  if (!node.isStandard) return node.outputs.map(() => undefined);
  const x = node.inputs[0] ? src.shape(node.inputs[0]) : undefined;
  const all = (s: Shape | undefined) => node.outputs.map(() => s);
  if (SAME_AS_INPUT.has(node.opType)) {
    // Pad and Tile keep the rank only.
    if (node.opType === 'Pad' || node.opType === 'Tile') return all(x && x.map(() => null));
    return all(x);
  }
  if (BROADCASTING.has(node.opType))
    return all(broadcastAll(node.inputs.map((i) => (i ? src.shape(i) : []))));
  switch (node.opType) {
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool':
      return all(x && windowShape(node, x, src));
    case 'ConvTranspose':
      return all(x && convTransposeShape(node, x, src));
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return all(x && [x[0], x[1], ...x.slice(2).map(() => 1)]);
    case 'MatMul':
      return all(matMulShape(x, src.shape(node.inputs[1])));
    case 'Gemm':
      return all(gemmShape(node, x, src.shape(node.inputs[1])));
    case 'Reshape':
      return all(reshapeShape(node, x, src));
    case 'Flatten':
      return all(x && flattenShape(x, normAxis(node.getInt('axis', 1), x.length)));
    case 'Transpose': {
      if (!x) return all(undefined);
      const perm = node.getInts(
        'perm',
        x.map((_, i) => x.length - 1 - i),
      );
      return all(perm.map((p) => x[p]));
    }
    case 'Concat':
      return all(concatShape(node, src));
    case 'Split':
      return splitShapes(node, x, src);
    case 'Slice':
      return all(x && sliceShape(node, x, src));
    case 'Gather': {
      const idx = src.shape(node.inputs[1]);
      if (!x || !idx) return all(undefined);
      const a = normAxis(node.getInt('axis', 0), x.length);
      return all([...x.slice(0, a), ...idx, ...x.slice(a + 1)]);
    }
    case 'GatherElements':
      return all(src.shape(node.inputs[1]));
    case 'Squeeze':
      return all(x && squeezeShape(node, x, src));
    case 'Unsqueeze':
      return all(x && unsqueezeShape(node, x, src));
    case 'Shape': {
      if (!x) return all(undefined);
      const r = x.length;
      const start = clampAxis(node.getInt('start', 0), r);
      const end = clampAxis(node.getInt('end', r), r);
      return all([Math.max(0, end - start)]);
    }
    case 'Size':
      return all([]);
    case 'ConstantOfShape': {
      const dims = src.dims(node.inputs[0]);
      const len = src.shape(node.inputs[0]);
      if (dims) return all(dims);
      return all(len && typeof len[0] === 'number' ? new Array<Dim>(len[0]).fill(null) : undefined);
    }
    case 'Expand': {
      const target = src.dims(node.inputs[1]);
      if (target) return all(broadcastAll([x, target]));
      const len = src.shape(node.inputs[1]);
      if (!x || !len || typeof len[0] !== 'number') return all(undefined);
      return all(new Array<Dim>(Math.max(x.length, len[0])).fill(null));
    }
    case 'Range':
      return all([null]);
    case 'NonZero':
      return all(x && [x.length, null]);
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL1':
    case 'ReduceL2':
    case 'ReduceSumSquare':
    case 'ReduceLogSum':
    case 'ReduceLogSumExp':
      return all(x && reduceShape(node, x, src));
    case 'BatchNormalization':
      return node.outputs.map((_, i) => (i === 0 ? x : x && [x[1]]));
    case 'LayerNormalization': {
      if (!x) return all(undefined);
      const a = normAxis(node.getInt('axis', -1), x.length);
      const stat = [...x.slice(0, a), ...x.slice(a).map(() => 1)];
      return node.outputs.map((_, i) => (i === 0 ? x : stat));
    }
    default:
      return all(undefined);
  }
}

/** numpy-style broadcasting; undefined if any rank is unknown. */
export function broadcastAll(shapes: readonly (Shape | undefined)[]): Shape | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(0, ...shapes.map((s) => s!.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const j = s!.length - rank + i;
      const e = j < 0 ? 1 : s![j];
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (d !== e) d = typeof d === 'number' ? d : typeof e === 'number' ? e : null;
    }
    out.push(d);
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function clampAxis(axis: number, rank: number): number {
  return Math.min(Math.max(normAxis(axis, rank), 0), rank);
}

const product = (dims: readonly Dim[]): Dim =>
  dims.every((d) => typeof d === 'number') ? (dims as number[]).reduce((a, b) => a * b, 1) : null;

/** Conv and pooling output sizes, for explicit pads and for auto_pad. */
function windowShape(node: Node, x: Shape, src: ShapeSource): Shape | undefined {
  const w = node.opType === 'Conv' ? src.shape(node.inputs[1]) : undefined;
  const kernel = node.getInts('kernel_shape', w ? (w.slice(2) as number[]) : []);
  const n = x.length - 2;
  if (kernel.length !== n || kernel.some((k) => typeof k !== 'number')) return x.map(() => null);
  const channels = node.opType === 'Conv' ? (w ? w[0] : null) : x[1];
  const strides = node.getInts('strides', new Array(n).fill(1));
  const dilations = node.getInts('dilations', new Array(n).fill(1));
  const pads = node.getInts('pads', new Array(2 * n).fill(0));
  const autoPad = node.getString('auto_pad', 'NOTSET');
  const ceil = node.getInt('ceil_mode', 0) === 1;
  const spatial = x.slice(2).map((d, i): Dim => {
    if (typeof d !== 'number') return null;
    const eff = (kernel[i] - 1) * dilations[i] + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(d / strides[i]);
    const padded = autoPad === 'VALID' ? d : d + pads[i] + pads[i + n];
    const q = (padded - eff) / strides[i];
    return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  });
  return [x[0], channels, ...spatial];
}

function convTransposeShape(node: Node, x: Shape, src: ShapeSource): Shape | undefined {
  const w = src.shape(node.inputs[1]);
  if (!w) return undefined;
  const n = x.length - 2;
  const group = node.getInt('group', 1);
  const channels = typeof w[1] === 'number' ? w[1] * group : null;
  const given = node.getInts('output_shape', []);
  if (given.length === n) return [x[0], channels, ...given];
  const kernel = node.getInts('kernel_shape', w.slice(2) as number[]);
  const strides = node.getInts('strides', new Array(n).fill(1));
  const dilations = node.getInts('dilations', new Array(n).fill(1));
  const pads = node.getInts('pads', new Array(2 * n).fill(0));
  const outPad = node.getInts('output_padding', new Array(n).fill(0));
  const spatial = x.slice(2).map((d, i): Dim => {
    if (typeof d !== 'number' || typeof kernel[i] !== 'number') return null;
    return strides[i] * (d - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + n];
  });
  return [x[0], channels, ...spatial];
}

function matMulShape(a: Shape | undefined, b: Shape | undefined): Shape | undefined {
  if (!a || !b) return undefined;
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastAll([a2.slice(0, -2), b2.slice(0, -2)])!;
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]);
  if (b.length > 1) out.push(b2[b2.length - 1]);
  return out;
}

function gemmShape(node: Node, a: Shape | undefined, b: Shape | undefined): Shape {
  const m = a ? a[node.getInt('transA', 0) ? 1 : 0] : null;
  const n = b ? b[node.getInt('transB', 0) ? 0 : 1] : null;
  return [m ?? null, n ?? null];
}

function reshapeShape(node: Node, x: Shape | undefined, src: ShapeSource): Shape | undefined {
  const target = src.dims(node.inputs[1]);
  if (!target) {
    const len = src.shape(node.inputs[1]);
    return len && typeof len[0] === 'number' ? new Array<Dim>(len[0]).fill(null) : undefined;
  }
  const allowZero = node.getInt('allowzero', 0) === 1;
  const out: Shape = target.map((d, i) => (d === 0 && !allowZero ? (x?.[i] ?? null) : d === -1 ? null : d));
  const minus = target.indexOf(-1);
  const total = x ? product(x) : null;
  const rest = product(out.filter((_, i) => i !== minus));
  if (minus >= 0 && typeof total === 'number' && typeof rest === 'number' && rest > 0)
    out[minus] = total / rest;
  return out;
}

function flattenShape(x: Shape, axis: number): Shape {
  return [product(x.slice(0, axis)), product(x.slice(axis))];
}

function concatShape(node: Node, src: ShapeSource): Shape | undefined {
  const shapes = node.inputs.map((i) => src.shape(i));
  if (shapes.some((s) => !s)) return undefined;
  const first = shapes[0]!;
  const a = normAxis(node.getInt('axis'), first.length);
  const out = [...first];
  const sizes = shapes.map((s) => s![a]);
  out[a] = sizes.every((d) => typeof d === 'number') ? (sizes as number[]).reduce((n, d) => n + d, 0) : null;
  return out;
}

function splitShapes(node: Node, x: Shape | undefined, src: ShapeSource): (Shape | undefined)[] {
  if (!x) return node.outputs.map(() => undefined);
  const a = normAxis(node.getInt('axis', 0), x.length);
  const sizes = node.inputs[1] ? src.ints(node.inputs[1]) : undefined;
  const k = node.outputs.length;
  return node.outputs.map((_, i) => {
    const out = [...x];
    const d = x[a];
    out[a] = sizes ? sizes[i] : typeof d === 'number' && d % k === 0 ? d / k : null;
    return out;
  });
}

function sliceShape(node: Node, x: Shape, src: ShapeSource): Shape {
  const starts = src.ints(node.inputs[1]);
  const ends = src.ints(node.inputs[2]);
  const axes = node.inputs[3] ? src.ints(node.inputs[3]) : starts?.map((_, i) => i);
  const steps = node.inputs[4] ? src.ints(node.inputs[4]) : starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps) return x.map(() => null);
  const out = [...x];
  axes.forEach((axis, j) => {
    const a = normAxis(axis, x.length);
    const d = x[a];
    if (typeof d !== 'number') {
      out[a] = null;
      return;
    }
    const step = steps[j];
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const s = step > 0 ? clamp(starts[j], 0, d) : clamp(starts[j], -1, d - 1);
    const e = step > 0 ? clamp(ends[j], 0, d) : clamp(ends[j], -1, d - 1);
    out[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  return out;
}

function reduceAxes(node: Node, src: ShapeSource): number[] | undefined | 'unknown' {
  if (node.hasAttribute('axes')) return node.getInts('axes');
  if (!node.inputs[1]) return undefined;
  return src.ints(node.inputs[1]) ?? 'unknown';
}

function reduceShape(node: Node, x: Shape, src: ShapeSource): Shape | undefined {
  const keep = node.getInt('keepdims', 1) === 1;
  const axes = reduceAxes(node, src);
  if (axes === 'unknown') return keep ? x.map(() => null) : undefined;
  if (!axes || axes.length === 0) {
    if (node.getInt('noop_with_empty_axes', 0) === 1) return x;
    return keep ? x.map(() => 1) : [];
  }
  const set = new Set(axes.map((a) => normAxis(a, x.length)));
  return keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
}

function squeezeShape(node: Node, x: Shape, src: ShapeSource): Shape | undefined {
  const axes = node.inputs[1] ? src.ints(node.inputs[1]) : node.getInts('axes', []);
  if (!axes) return undefined;
  if (axes.length === 0) return x.every((d) => typeof d === 'number') ? x.filter((d) => d !== 1) : undefined;
  const set = new Set(axes.map((a) => normAxis(a, x.length)));
  return x.filter((_, i) => !set.has(i));
}

function unsqueezeShape(node: Node, x: Shape, src: ShapeSource): Shape | undefined {
  const axes = node.inputs[1] ? src.ints(node.inputs[1]) : node.getInts('axes', []);
  if (!axes) return undefined;
  const rank = x.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank)));
  const out: Shape = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : x[j++]);
  return out;
}
