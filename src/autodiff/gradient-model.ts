/**
 * Reverse-mode automatic differentiation over ONNX graphs. The backward pass is built symbolically in
 * standard ONNX operators and appended to the forward graph, so one ONNX Runtime session (node or
 * web, CPU build, no training extensions) computes the loss and all gradients in a single run.
 */
import type { Attribute } from '../onnx/attribute.js';
import type { Graph } from '../onnx/graph.js';
import type { Model } from '../onnx/model.js';
import type { Node } from '../onnx/node.js';
import type { Dim } from '../onnx/value-info.js';
import type { DType } from '../tensor/dtype.js';
import { buildBackward } from './backward.js';
import { registerRule } from './registry.js';

export interface GradientRequest {
  /** Name of a scalar float value in the model's main graph: the loss to differentiate. */
  loss: string;
  /**
   * Names of initializers or graph inputs to differentiate with respect to. In the returned model each
   * becomes a graph input (so the trainer can feed the current values every step), keeping its shape.
   */
  parameters: string[];
  /** Extra forward values to keep as outputs (e.g. logits for accuracy, BatchNorm batch statistics). */
  keepOutputs?: string[];
}

export interface GradientModel {
  /**
   * Forward + backward in standard ONNX ops (opset of the input model, raised to at least 17 if
   * needed), runnable by onnxruntime-node and onnxruntime-web. Outputs: the loss, each gradient,
   * keepOutputs.
   */
  model: Model;
  /** parameter name → the output holding d loss / d parameter (same shape as the parameter). */
  gradients: Map<string, string>;
}

/** Builds the gradient model. The input model is not modified. */
export function buildGradientModel(model: Model, request: GradientRequest): GradientModel {
  return buildBackward(model, request);
}

/** Options of a node a rule emits. */
export interface EmitOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  domain?: string;
}

/**
 * What a gradient rule uses to emit backward nodes. Values are referred to by name: a rule may read
 * any forward value (inputs, outputs of the node, initializers) and the gradient values it is given.
 */
export interface GradientContext {
  /**
   * The forward graph being differentiated (a copy of the caller's). Rules read it; the only edit a
   * rule makes is to request an optional output of the node it differentiates (MaxPool's Indices).
   */
  readonly graph: Graph;
  /** Default-domain opset of the gradient model (17 or more). */
  readonly opset: number;
  /** True when input `index` of `node` lies on a path from a parameter, i.e. its gradient is used. */
  needsGradient(node: Node, index: number): boolean;
  /** Element type of a value (forward or emitted). */
  dtype(value: string): DType | undefined;
  /** Static shape as far as known (dims may be symbolic or null), undefined when the rank is unknown. */
  shape(value: string): Dim[] | undefined;
  /** Rank, when known statically. */
  rank(value: string): number | undefined;
  /** A fresh value name derived from `base`. */
  fresh(base: string): string;
  /** Emits a one-output node and returns its output. */
  op(opType: string, inputs: readonly string[], attributes?: readonly Attribute[]): string;
  /** Emits a node with several outputs and returns them. */
  ops(
    opType: string,
    inputs: readonly string[],
    attributes: readonly Attribute[],
    options: EmitOptions,
  ): string[];
  /** A constant with the element type of `like` (a float value): a scalar, or a tensor of `dims`. */
  floatConstant(values: number | readonly number[], like: string, dims?: readonly number[]): string;
  /** A 1-D int64 constant (or a scalar when `scalar`). */
  int64s(values: readonly number[], scalar?: boolean): string;
  /** Shape(value), emitted once per value. */
  shapeOf(value: string): string;
  /** The shape of `value` as an int64 value: a constant when known statically, else Shape(value). */
  shapeValue(value: string): string;
  /** Sums `grad` over the axes along which `operand` was broadcast, and gives it `operand`'s shape. */
  unbroadcast(grad: string, operand: string): string;
  /** ReduceSum over `axes` (a constant list, or an int64 value holding them). */
  reduceSum(x: string, axes: readonly number[] | string, keepdims: boolean): string;
  /** ReduceMean over constant `axes`, in the opset's form. */
  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string;
  /** Zeros of the element type of `like` and the shape held by the int64 value `shape`. */
  zeros(shape: string, like: string): string;
  /** Casts a value to the element type of `like` when they differ. */
  castLike(x: string, like: string): string;
}

/**
 * Computes the gradients of a node's inputs from its outputs' gradients (undefined = zero), one entry
 * per input (undefined = no gradient flows there).
 */
export type GradientRule = (
  node: Node,
  outputGrads: (string | undefined)[],
  ctx: GradientContext,
) => (string | undefined)[];

/** Registers (or replaces) the rule for an operator; '' and 'ai.onnx' are the same domain. */
export function registerGradient(domain: string, opType: string, rule: GradientRule): void {
  registerRule(domain, opType, rule);
}
