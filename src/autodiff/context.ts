/**
 * The GradientContext rules emit through: appends nodes and constants to the graph under fresh names,
 * and keeps the element types and static shapes of everything it emits, so a rule can ask for the
 * shape of a gradient it just built.
 */
import { Attribute } from '../onnx/attribute.js';
import type { Graph } from '../onnx/graph.js';
import { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';
import { BOOL_OUT, INT64_OUT } from '../onnx/infer-dtypes.js';
import type { Dim } from '../onnx/value-info.js';
import { type DType, dtypeFromOnnx, dtypeInfo } from '../tensor/dtype.js';
import { float32ArrayToFloat16 } from '../tensor/float16.js';
import type { EmitOptions, GradientContext } from './gradient-model.js';
import { constantInts, isFullShape, outputShapes, type Shape, type ShapeSource } from './shapes.js';

export interface EmitterInit {
  graph: Graph;
  opset: number;
  dtypes: Map<string, DType>;
  shapes: Map<string, Shape>;
  needsGradient: (node: Node, index: number) => boolean;
  /** Prefix of emitted names (default 'grad'). */
  prefix?: string;
}

export class Emitter implements GradientContext, ShapeSource {
  readonly graph: Graph;
  readonly opset: number;
  private readonly dtypes: Map<string, DType>;
  private readonly shapes: Map<string, Shape>;
  private readonly names = new Set<string>();
  private readonly shapeCache = new Map<string, string>();
  /** Values holding Shape(v), by value: their contents are v's dimensions. */
  private readonly shapeContents = new Map<string, string>();
  /** Outputs of emitted Reshapes → their data input, to fold Reshape chains. */
  private readonly reshaped = new Map<string, string>();
  /** Outputs of emitted Expands → their data input. */
  private readonly expanded = new Map<string, string>();
  private readonly constants = new Map<string, string>();
  readonly needsGradient: (node: Node, index: number) => boolean;
  private readonly prefix: string;

  constructor(init: EmitterInit) {
    this.prefix = init.prefix ?? 'grad';
    this.graph = init.graph;
    this.opset = init.opset;
    this.dtypes = init.dtypes;
    this.shapes = init.shapes;
    this.needsGradient = init.needsGradient;
    const g = this.graph;
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo.values()]) this.names.add(v.name);
    for (const n of g.initializers.keys()) this.names.add(n);
    for (const { node } of g.walk()) {
      this.names.add(node.name);
      for (const v of [...node.inputs, ...node.outputs]) this.names.add(v);
    }
    for (const node of g.nodes)
      if (isFullShape(node)) this.shapeContents.set(node.outputs[0], node.inputs[0]);
  }

  dtype(value: string): DType | undefined {
    return this.dtypes.get(value);
  }

  setDtype(value: string, dtype: DType | undefined): void {
    if (dtype) this.dtypes.set(value, dtype);
  }

  shape(value: string): Dim[] | undefined {
    return this.shapes.get(value);
  }

  setShape(value: string, shape: Shape | undefined): void {
    if (shape) this.shapes.set(value, shape);
  }

  rank(value: string): number | undefined {
    return this.shapes.get(value)?.length;
  }

  ints(name: string): number[] | undefined {
    return constantInts(this.graph, name);
  }

  dims(name: string): Shape | undefined {
    const of = this.shapeContents.get(name);
    return this.ints(name) ?? (of === undefined ? undefined : this.shape(of));
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  op(opType: string, inputs: readonly string[], attributes: readonly Attribute[] = []): string {
    return this.ops(opType, inputs, attributes, {})[0];
  }

  ops(
    opType: string,
    inputs: readonly string[],
    attributes: readonly Attribute[],
    options: EmitOptions,
  ): string[] {
    if (opType === 'Reshape' && (options.domain ?? '') === '') inputs = this.foldReshape(inputs);
    const outputs = Array.from({ length: options.outputs ?? 1 }, () =>
      this.fresh(`${this.prefix}_${opType}`),
    );
    const node = new Node(opType, inputs, outputs, {
      name: this.fresh(`${this.prefix}_${opType}_node`),
      domain: options.domain ?? '',
      attributes,
    });
    this.graph.addNode(node);
    const shapes = outputShapes(node, this);
    const dtype = this.outputDtype(node);
    outputs.forEach((o, i) => {
      this.setShape(o, shapes[i]);
      this.setDtype(o, dtype);
    });
    if (isFullShape(node)) this.shapeContents.set(outputs[0], inputs[0]);
    if (opType === 'Reshape' && attributes.length === 0) this.reshaped.set(outputs[0], inputs[0]);
    if (opType === 'Expand') this.expanded.set(outputs[0], inputs[0]);
    return outputs;
  }

  /**
   * Reshape(Reshape(a, s1), s2) is Reshape(a, s2) when s2 copies no dimension from its input (no 0):
   * fewer copies, and ONNX Runtime's Reshape fusion fails to load some such chains whose inner
   * shape is computed at run time.
   */
  private foldReshape(inputs: readonly string[]): readonly string[] {
    const inner = this.reshaped.get(inputs[0]);
    if (inner === undefined) return inputs;
    const target = this.ints(inputs[1]);
    const copiesNone = target ? !target.includes(0) : this.shapeContents.has(inputs[1]);
    return copiesNone ? [inner, inputs[1]] : inputs;
  }

  /**
   * The sum of gradient contributions of one value, all of its shape. Sum broadcasts, so a
   * contribution that is an Expand of a smaller tensor enters unexpanded when another one has the
   * full shape: one pass over the full tensor less.
   */
  sumContributions(grads: readonly string[]): string {
    const full = grads.filter((g) => !this.expanded.has(g));
    const parts =
      full.length > 0
        ? [...full, ...grads.filter((g) => this.expanded.has(g)).map((g) => this.expanded.get(g)!)]
        : grads;
    return this.op('Sum', parts);
  }

  floatConstant(values: number | readonly number[], like: string, dims?: readonly number[]): string {
    const dtype = this.dtype(like);
    if (!dtype || dtypeInfo(dtype).kind !== 'float') {
      throw new Error(`autodiff: '${like}' has no known float type for a constant`);
    }
    const list = typeof values === 'number' ? [values] : [...values];
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    return this.constant(dtype, shape, list);
  }

  int64s(values: readonly number[], scalar = false): string {
    return this.constant('int64', scalar ? [] : [values.length], [...values]);
  }

  shapeOf(value: string): string {
    let s = this.shapeCache.get(value);
    if (!s) {
      s = this.op('Shape', [value]);
      this.shapeCache.set(value, s);
    }
    return s;
  }

  unbroadcast(grad: string, operand: string): string {
    const target = this.shape(operand);
    const from = this.shape(grad);
    if (target && from && from.length >= target.length) {
      const axes = staticBroadcastAxes(from, target);
      if (axes) {
        if (axes.length === 0) return grad;
        const summed = this.reduceSum(grad, axes, true);
        return from.length === target.length
          ? summed
          : this.op('Reshape', [summed, this.shapeValue(operand)]);
      }
    }
    return this.dynamicUnbroadcast(grad, operand);
  }

  reduceSum(x: string, axes: readonly number[] | string, keepdims: boolean): string {
    const axesValue = typeof axes === 'string' ? axes : this.int64s(axes);
    return this.op('ReduceSum', [x, axesValue], [Attribute.int('keepdims', keepdims ? 1 : 0)]);
  }

  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string {
    const keep = Attribute.int('keepdims', keepdims ? 1 : 0);
    if (this.opset >= 18) return this.op('ReduceMean', [x, this.int64s(axes)], [keep]);
    return this.op('ReduceMean', [x], [keep, Attribute.ints('axes', axes)]);
  }

  zeros(shape: string, like: string): string {
    const dtype = this.dtype(like) ?? 'float32';
    const out = this.op(
      'ConstantOfShape',
      [shape],
      [Attribute.tensor('value', numbers('value', dtype, [1], [0]))],
    );
    this.setDtype(out, dtype);
    return out;
  }

  castLike(x: string, like: string): string {
    const want = this.dtype(like);
    const have = this.dtype(x);
    if (want && have === want) return x;
    if (!want) return this.op('CastLike', [x, like]);
    const out = this.op('Cast', [x], [Attribute.int('to', dtypeInfo(want).onnx)]);
    this.setDtype(out, want);
    return out;
  }

  /** The shape of `value` as an int64 value: a constant when fully known, else Shape(value). */
  shapeValue(value: string): string {
    const s = this.shape(value);
    if (s && s.every((d) => typeof d === 'number')) return this.int64s(s as number[]);
    return this.shapeOf(value);
  }

  private constant(dtype: DType, dims: readonly number[], values: readonly number[]): string {
    const key = `${dtype}:${dims.join(',')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh(`${this.prefix}_${dtype === 'int64' ? 'ints' : 'const'}`);
      this.graph.addInitializer(numbers(name, dtype, dims, values));
      this.constants.set(key, name);
      this.setDtype(name, dtype);
      this.setShape(name, [...dims]);
    }
    return name;
  }

  /**
   * Reduction over the axes where the operand's (rank-padded) shape is 1, found at run time: for
   * operands whose dimensions are not all known statically.
   */
  private dynamicUnbroadcast(grad: string, operand: string): string {
    const target = this.shapeOf(operand);
    const gradRank = this.rank(grad);
    const operandRank = this.rank(operand);
    let padded = target;
    if (gradRank === undefined || operandRank === undefined) {
      const missing = this.op('Sub', [this.op('Shape', [this.shapeOf(grad)]), this.op('Shape', [target])]);
      const ones = this.op(
        'ConstantOfShape',
        [missing],
        [Attribute.tensor('value', numbers('value', 'int64', [1], [1]))],
      );
      padded = this.op('Concat', [ones, target], [Attribute.int('axis', 0)]);
    } else if (gradRank > operandRank) {
      padded = this.op(
        'Concat',
        [this.int64s(new Array(gradRank - operandRank).fill(1)), target],
        [Attribute.int('axis', 0)],
      );
    }
    const isOne = this.op('Equal', [padded, this.int64s([1], true)]);
    const axes = this.op('Reshape', [this.op('NonZero', [isOne]), this.int64s([-1])]);
    const summed = this.op(
      'ReduceSum',
      [grad, axes],
      [Attribute.int('keepdims', 1), Attribute.int('noop_with_empty_axes', 1)],
    );
    return this.op('Reshape', [summed, target]);
  }

  private outputDtype(node: Node): DType | undefined {
    if (INT64_OUT.has(node.opType)) return 'int64';
    if (BOOL_OUT.has(node.opType)) return 'bool';
    if (node.opType === 'Cast') return dtypeFromOnnx(node.getInt('to'));
    if (node.opType === 'Where') return this.dtype(node.inputs[1]);
    if (node.opType === 'CastLike') return this.dtype(node.inputs[1]);
    return this.dtype(node.inputs[0]);
  }
}

/**
 * The axes to sum so that a value of shape `from` gets shape `target` (numpy broadcasting read
 * backwards), or undefined when unknown dimensions leave it open.
 */
function staticBroadcastAxes(from: Shape, target: Shape): number[] | undefined {
  const lead = from.length - target.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead) {
      axes.push(i);
      continue;
    }
    const t = target[i - lead];
    const f = from[i];
    if (t === 1) {
      if (f !== 1) axes.push(i);
    } else if (t === null || t !== f) {
      return undefined;
    }
  }
  return axes;
}

/** A tensor of numbers in the given element type (float16 stored as bit patterns). */
function numbers(name: string, dtype: DType, dims: readonly number[], values: readonly number[]): Tensor {
  switch (dtype) {
    case 'float64':
      return Tensor.fromArray(name, dtype, dims, Float64Array.from(values));
    case 'float16':
      return Tensor.fromArray(name, dtype, dims, float32ArrayToFloat16(Float32Array.from(values)));
    case 'int64':
      return Tensor.fromArray(
        name,
        dtype,
        dims,
        BigInt64Array.from(values, (v) => BigInt(v)),
      );
    case 'float32':
      return Tensor.fromArray(name, dtype, dims, Float32Array.from(values));
    default:
      throw new Error(`autodiff: no constants of type ${dtype}`);
  }
}
