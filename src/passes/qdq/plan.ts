/**
 * The static-quantization plan: which nodes run quantized, which activations need a scale (and which
 * share their input's), which weights and biases are stored as integers. Deciding this before
 * calibration means only the activations that will actually be quantized are observed.
 */
import { definingGraphs } from '../../onnx/defining-graphs.js';
import type { Graph } from '../../onnx/graph.js';
import type { DtypeMap } from '../../onnx/infer-dtypes.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { type NodeFilter, nodeSelected } from '../node-filter.js';
import { ABSORBED_ACTIVATIONS, OP_RULES, type OpRule } from './op-rules.js';

export interface PlanOptions {
  opTypes: readonly string[];
  filter: NodeFilter;
  perChannel: boolean;
  /** Store Conv/Gemm biases as int32 (ONNX Runtime CPU); TensorRT wants them float. */
  quantizeBias: boolean;
  /** Leave MatMuls of two activations (attention scores, attention × values) in float. */
  weightedMatMulOnly?: boolean;
}

export interface ActivationPlan {
  name: string;
  /** The graph defining the value; its Q/DQ pair goes there. */
  graph: Graph;
  /** Pass-through outputs reuse the scale and zero point of this value. */
  sameAs?: string;
  fixedRange?: readonly [number, number];
}

export interface WeightUse {
  node: Node;
  input: number;
}

export interface WeightPlan {
  /** Identifies the quantized copy: one per (initializer, axis). */
  key: string;
  name: string;
  /** The graph holding the initializer (consumers may sit in subgraphs below it). */
  graph: Graph;
  axis: number | undefined;
  uses: WeightUse[];
}

export interface BiasPlan {
  node: Node;
  input: number;
  bias: string;
  /** The quantized activation feeding the node: bias scale = its scale × the weight's. */
  activation: string;
  weightKey: string;
}

export interface QuantPlan {
  activations: Map<string, ActivationPlan>;
  weights: Map<string, WeightPlan>;
  biases: BiasPlan[];
  nodes: Set<Node>;
  /** Nodes of a selected op type left in float, and why. */
  skipped: { node: Node; reason: string }[];
}

export function planStatic(model: Model, dtypes: DtypeMap, opts: PlanOptions): QuantPlan {
  return new Planner(model, dtypes, opts).plan();
}

class Planner {
  private readonly defined: Map<string, Graph>;
  private readonly activations = new Map<string, ActivationPlan>();
  private readonly weights = new Map<string, WeightPlan>();
  private readonly nodes = new Set<Node>();
  private readonly skipped: { node: Node; reason: string }[] = [];
  private readonly perChannel: boolean;

  constructor(
    private readonly model: Model,
    private readonly dtypes: DtypeMap,
    private readonly opts: PlanOptions,
  ) {
    this.defined = definingGraphs(model);
    // Per-axis QuantizeLinear/DequantizeLinear arrived in opset 13.
    this.perChannel = opts.perChannel && (model.opset('') ?? 0) >= 13;
  }

  plan(): QuantPlan {
    const all = [...this.ordered(this.model.graph)];
    for (const { node, graph } of all) if (this.rule(node)?.kind === 'compute') this.planCompute(node, graph);
    for (const { node, graph } of all) {
      const kind = this.rule(node)?.kind;
      if (!this.nodes.has(node) && (kind === 'follower' || kind === 'pass-through'))
        this.planFollower(node, graph);
    }
    for (const { node, graph } of all) {
      if (this.nodes.has(node) && (node.opType === 'MatMul' || node.opType === 'Gemm'))
        this.absorbAfterMatMul(node, graph);
    }
    return {
      activations: this.activations,
      weights: this.weights,
      biases: this.opts.quantizeBias ? this.biases() : [],
      nodes: this.nodes,
      skipped: this.skipped,
    };
  }

  /** Every node, graph by graph in topological order, a node's subgraphs right after it. */
  private *ordered(g: Graph): Generator<{ node: Node; graph: Graph }> {
    for (const node of g.topologicalOrder()) {
      yield { node, graph: g };
      for (const sub of node.subgraphs()) yield* this.ordered(sub);
    }
  }

  private rule(node: Node): OpRule | undefined {
    if (!node.isStandard || !this.opts.opTypes.includes(node.opType)) return undefined;
    if (!nodeSelected(node, this.opts.filter)) return undefined;
    return OP_RULES[node.opType];
  }

  private isFloat(name: string): boolean {
    return this.dtypes.get(name) === 'float32';
  }

  private planCompute(node: Node, graph: Graph): void {
    const rule = this.rule(node)!;
    const roles = rule.inputs(node);
    const acts: string[] = [];
    const consts: { index: number; axis: number | undefined }[] = [];
    for (const [i, role] of roles.entries()) {
      const name = node.inputs[i];
      if (!name || role === 'ignore' || role === 'bias') continue;
      const weight = graph.findInitializer(name);
      if (!this.isFloat(name)) return this.skip(node, `input '${name}' is not float32`);
      if (weight) {
        const axis =
          role === 'weight' && this.perChannel ? rule.weightAxis?.(node, weight.dims.length) : undefined;
        consts.push({ index: i, axis });
      } else if (role === 'weight') {
        return this.skip(node, `its weight '${name}' is not a constant`);
      } else {
        acts.push(name);
      }
    }
    if (acts.length === 0) return this.skip(node, 'it has no activation input');
    if (node.opType === 'MatMul' && consts.length === 0 && this.opts.weightedMatMulOnly) {
      return this.skip(node, 'it multiplies two activations, which this target keeps in float');
    }
    this.nodes.add(node);
    for (const a of acts) this.addActivation(a);
    for (const c of consts) this.addWeight(node, c.index, c.axis);
    if (node.opType === 'Conv' || node.opType === 'ConvTranspose')
      this.addOutput(node, node.outputs[0], graph);
  }

  private planFollower(node: Node, graph: Graph): void {
    const rule = this.rule(node)!;
    const roles = rule.inputs(node);
    const acts: string[] = [];
    const consts: number[] = [];
    for (const [i, role] of roles.entries()) {
      const name = node.inputs[i];
      if (!name || role !== 'activation') continue;
      if (!this.isFloat(name)) return;
      if (graph.findInitializer(name)) consts.push(i);
      else acts.push(name);
    }
    if (acts.length === 0 || !acts.every((a) => this.activations.has(a))) return;
    this.nodes.add(node);
    for (const i of consts) this.addWeight(node, i, undefined);
    const outputs = node.outputs.slice(0, rule.outputs ?? 1).filter((o) => o && this.isFloat(o));
    for (const o of outputs) {
      if (rule.kind === 'pass-through') this.addActivation(o, { sameAs: acts[0] });
      else if (rule.fixedRange) this.addActivation(o, { fixedRange: rule.fixedRange });
      else this.addOutput(node, o, graph);
    }
  }

  /** A quantized op's output, or — when a Relu/Clip alone reads it — that activation's output. */
  private addOutput(node: Node, out: string, graph: Graph): void {
    const consumers = graph.consumers(out);
    const next = consumers.length === 1 ? consumers[0] : undefined;
    if (next && this.absorbable(next, out, graph)) {
      this.nodes.add(next);
      this.addActivation(next.outputs[0]);
    } else {
      this.addActivation(out);
    }
  }

  /** MatMul/Gemm outputs stay float unless a quantized Relu/Clip follows (ONNX Runtime then fuses all three). */
  private absorbAfterMatMul(node: Node, graph: Graph): void {
    const out = node.outputs[0];
    if (this.activations.has(out)) return;
    const consumers = graph.consumers(out);
    const next = consumers.length === 1 ? consumers[0] : undefined;
    if (next && this.absorbable(next, out, graph) && this.activations.has(next.outputs[0]))
      this.nodes.add(next);
  }

  private absorbable(next: Node, input: string, graph: Graph): boolean {
    return (
      ABSORBED_ACTIVATIONS.has(next.opType) &&
      this.rule(next) !== undefined &&
      next.inputs[0] === input &&
      !graph.isGraphOutput(input) &&
      this.isFloat(next.outputs[0])
    );
  }

  private addActivation(name: string, extra: Partial<ActivationPlan> = {}): void {
    const existing = this.activations.get(name);
    if (existing) {
      // A pass-through output may first have been planned as some compute op's input.
      if (extra.sameAs && !existing.sameAs) existing.sameAs = extra.sameAs;
      return;
    }
    const graph = this.defined.get(name);
    if (graph) this.activations.set(name, { name, graph, ...extra });
  }

  private addWeight(node: Node, input: number, axis: number | undefined): void {
    const name = node.inputs[input];
    const key = axis === undefined ? name : `${name}@${axis}`;
    let w = this.weights.get(key);
    if (!w) {
      w = { key, name, graph: this.defined.get(name)!, axis, uses: [] };
      this.weights.set(key, w);
    }
    w.uses.push({ node, input });
  }

  private biases(): BiasPlan[] {
    const out: BiasPlan[] = [];
    for (const w of this.weights.values()) {
      for (const { node, input } of w.uses) {
        const rule = OP_RULES[node.opType];
        const roles = rule.inputs(node);
        const b = roles.indexOf('bias');
        if (input !== roles.indexOf('weight') || b < 0 || !node.inputs[b]) continue;
        const bias = node.graph?.findInitializer(node.inputs[b]);
        const activation = node.inputs[0];
        if (!bias || bias.dtype !== 'float32' || bias.dims.length !== 1 || !this.activations.has(activation))
          continue;
        // Gemm scales its bias by beta and its product by alpha; only the plain form maps onto int32 bias.
        if (node.opType === 'Gemm' && (node.getFloat('alpha', 1) !== 1 || node.getFloat('beta', 1) !== 1))
          continue;
        out.push({ node, input: b, bias: bias.name, activation, weightKey: w.key });
      }
    }
    return out;
  }

  private skip(node: Node, reason: string): void {
    this.skipped.push({ node, reason });
  }
}
