/**
 * Appending nodes to a graph under fresh names: what the loss builders and the fake-quant insertion
 * use to grow a forward model into a training model.
 */
import { Attribute } from '../onnx/attribute.js';
import type { Graph } from '../onnx/graph.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';

export class GraphEditor {
  readonly graph: Graph;

  constructor(
    readonly model: Model,
    /** Prefix of every new name, so added values are recognisable in the graph. */
    private readonly prefix: string,
  ) {
    this.graph = model.graph;
  }

  name(base: string): string {
    return this.graph.uniqueName(`${this.prefix}${base}`);
  }

  /** Adds `opType` reading `inputs`; returns its output. */
  op(opType: string, inputs: readonly string[], attributes: Attribute[] = [], domain = ''): string {
    const out = this.name(opType.toLowerCase());
    this.graph.addNode(new Node(opType, inputs, [out], { name: this.name(opType), attributes, domain }));
    return out;
  }

  /** A float32 scalar initializer. */
  scalar(value: number, base = 'const'): string {
    const name = this.name(base);
    this.graph.addInitializer(Tensor.fromArray(name, 'float32', [], Float32Array.of(value)));
    return name;
  }

  /** ReduceSum over `axes`, in the form the model's opset takes them (an input from opset 13). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.reduce('ReduceSum', 13, x, axes, keepdims);
  }

  private reduce(op: string, axesInputSince: number, x: string, axes: readonly number[], keepdims: boolean) {
    const keep = Attribute.int('keepdims', keepdims ? 1 : 0);
    if ((this.model.opset('') ?? 0) < axesInputSince)
      return this.op(op, [x], [keep, Attribute.ints('axes', axes)]);
    const axesName = this.name('axes');
    this.graph.addInitializer(
      Tensor.fromArray(
        axesName,
        'int64',
        [axes.length],
        BigInt64Array.from(axes, (a) => BigInt(a)),
      ),
    );
    return this.op(op, [x, axesName], [keep]);
  }

  /** ReduceMean over `axes`, in the form the model's opset takes them (an input from opset 18). */
  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.reduce('ReduceMean', 18, x, axes, keepdims);
  }

  /** The mean of every element: a scalar. */
  meanAll(x: string): string {
    return this.op('ReduceMean', [x], [Attribute.int('keepdims', 0)]);
  }
}
