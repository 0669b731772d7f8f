/**
 * Float16 conversion (DOMAIN.md §4, "FP16 / mixed FP16"): float32 weights and activations become
 * float16, except around ops that must stay float32 (the block list, the node filter, and everything
 * inside a kept If/Loop/Scan), which get Casts on both sides. Model inputs and outputs stay float32
 * unless `keepIoTypes: false`. Every float value gets one consistent type — across If/Loop/Scan
 * boundaries and outer-scope reads too — and declared types (value_info, subgraph inputs and outputs)
 * follow, because ONNX Runtime refuses a model whose float16 and float32 types disagree anywhere.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { type NodeOutcome, nodeOutcome } from '../pass-report.js';
import { setElementType } from '../value-type.js';
import { CastInserter, castNode, ONNX_FLOAT, ONNX_FLOAT16 } from './casts.js';
import { toFloat16 } from './half-tensor.js';
import { inputRole } from './op-roles.js';
import { type Fp16Options, resolveFp16Options } from './options.js';
import { Fp16Plan } from './plan.js';

export interface Fp16Report {
  /** Every node whose float32 inputs or outputs the conversion concerns, with what became of it. */
  nodes: NodeOutcome[];
  /** Float32 initializers stored as float16. */
  initializers: number;
  /** Finite initializer values beyond ±65504, clamped to ±65504. */
  clamped: number;
  /** Non-zero initializer values below 2^-24 in magnitude, raised to ±2^-24 so they do not vanish. */
  raised: number;
  /** Casts added between float16 and float32 values. */
  casts: number;
  /** One line per tensor whose values had to change beyond rounding (clamped or raised). */
  notes: string[];
}

export function convertToFloat16(model: Model, options: Fp16Options = {}): Fp16Report {
  const resolved = resolveFp16Options(options);
  const plan = new Fp16Plan(model, resolved);
  const walked = [...model.graph.walk()];
  const graphs = [...model.graph.graphs()];
  // Nodes that read float values only for their shape or to convert them (Shape, Cast to int) have
  // nothing to convert and are not listed. Decided before Casts rename any input.
  const listed = walked.filter(
    ({ node }) =>
      node.outputs.some((n) => plan.isFloat(n)) ||
      node.inputs.some((n, i) => plan.isFloat(n) && inputRole(node, i) !== 'any'),
  );

  updateDeclaredTypes(model, plan, resolved.keepIoTypes);

  const casts = new CastInserter();
  for (const { node, graph } of walked) {
    node.inputs.forEach((name, i) => {
      if (!plan.isFloat(name)) return;
      const want = plan.want(node, i);
      if (want === undefined || plan.newType(graph, name) === want) return;
      node.setInput(i, casts.cast(plan.definer(graph, name)!, name, want));
    });
  }
  for (const graph of graphs.slice(1)) castSubgraphOutputs(graph, plan, casts);
  if (resolved.keepIoTypes) castModelOutputs(model.graph, plan, casts);

  const report: Fp16Report = { nodes: [], initializers: 0, clamped: 0, raised: 0, casts: 0, notes: [] };
  for (const [graph, names] of plan.halfInitializers) {
    for (const name of names) {
      graph.addInitializer(halfTensor(graph.initializers.get(name)!, `initializer '${name}'`, report));
      report.initializers++;
    }
  }
  for (const { node, graph } of listed) {
    const kept = plan.kept.get(node);
    if (kept !== undefined) report.nodes.push(nodeOutcome(node, graph, false, kept));
    else report.nodes.push(nodeOutcome(node, graph, true, convertNode(node, report)));
  }
  report.casts = casts.count;
  for (const g of graphs) g.sortTopologically();
  return report;
}

/** Declared float32 types become what the values will be; the model's own inputs and outputs stay float32 when kept. */
function updateDeclaredTypes(model: Model, plan: Fp16Plan, keepIoTypes: boolean): void {
  for (const graph of model.graph.graphs()) {
    const main = graph === model.graph;
    for (const vi of graph.valueInfo.values()) {
      if (plan.isFloat(vi.name)) setElementType(vi, plan.newType(graph, vi.name));
    }
    if (main && keepIoTypes) continue;
    for (const vi of graph.inputs) {
      if (plan.isFloat(vi.name)) setElementType(vi, plan.newType(graph, vi.name));
    }
    for (const vi of graph.outputs) {
      if (!plan.isFloat(vi.name)) continue;
      setElementType(vi, main ? plan.newType(graph, vi.name) : plan.wantOutput(graph));
    }
  }
}

/** A subgraph output of the other type than its owner's output gets a Cast inside the subgraph. */
function castSubgraphOutputs(graph: Graph, plan: Fp16Plan, casts: CastInserter): void {
  const want = plan.wantOutput(graph);
  for (const vi of graph.outputs) {
    if (!plan.isFloat(vi.name) || plan.newType(graph, vi.name) === want) continue;
    const out = graph.uniqueName(`${vi.name}_${want}`);
    graph.addNode(castNode(graph, vi.name, out, want));
    vi.name = out;
    casts.count++;
  }
  graph.invalidate();
}

/**
 * A float16 value the model outputs as float32: its producer now writes `<name>_float16`, which every
 * reader inside the model uses, and a Cast writes the output under its public name.
 */
function castModelOutputs(main: Graph, plan: Fp16Plan, casts: CastInserter): void {
  for (const vi of main.outputs) {
    const name = vi.name;
    if (!plan.isFloat(name) || plan.newType(main, name) !== 'float16') continue;
    const producer = main.producer(name)!;
    const half = main.uniqueName(`${name}_float16`);
    producer.setOutput(producer.outputs.indexOf(name), half);
    main.replaceAllUses(name, half);
    const info = main.valueInfo.get(name);
    if (info) {
      main.valueInfo.delete(name);
      info.name = half;
      main.valueInfo.set(half, info);
    }
    main.addNode(castNode(main, half, name, 'float32'), { after: producer });
    casts.count++;
  }
}

/**
 * Rewrites the float32 types a converted node states itself (Cast targets, constant values); returns
 * the report note. Only nodes writing or reading float32 values get here.
 */
function convertNode(node: Node, report: Fp16Report): string {
  if (!node.isStandard) return 'float16';
  const what = `${node.label}'s value`;
  if (node.opType === 'Cast' && node.getInt('to') === ONNX_FLOAT) {
    node.setAttribute(Attribute.int('to', ONNX_FLOAT16));
    return 'Cast to float16 instead of float32';
  }
  if (node.opType === 'ConstantOfShape') {
    // Without a value the fill is a float32 zero.
    const value = node.getTensor('value') ?? Tensor.fromArray('value', 'float32', [1], new Float32Array(1));
    node.setAttribute(Attribute.tensor('value', halfTensor(value, what, report)));
    return 'float16 fill value';
  }
  const value = node.opType === 'Constant' ? constantValue(node) : undefined;
  if (value) {
    for (const a of node.attributes()) node.removeAttribute(a.name);
    node.setAttribute(Attribute.tensor('value', halfTensor(value, what, report)));
    return 'float16 value';
  }
  return 'float16';
}

/** The tensor in float16, with what had to change counted and noted under `what`. */
function halfTensor(value: Tensor, what: string, report: Fp16Report): Tensor {
  const half = toFloat16(value);
  report.clamped += half.clamped;
  report.raised += half.raised;
  if (half.clamped > 0) {
    report.notes.push(`${what}: ${half.clamped} value(s) beyond float16's range clamped to ±65504`);
  }
  if (half.raised > 0) {
    report.notes.push(
      `${what}: ${half.raised} non-zero value(s) below 2^-24 raised to ±2^-24 instead of becoming 0`,
    );
  }
  return half.tensor;
}

/** A Constant's float32 value as a tensor, whichever attribute holds it. */
function constantValue(node: Node): Tensor | undefined {
  const tensor = node.getTensor('value');
  if (tensor) return tensor.dtype === 'float32' ? tensor : undefined;
  if (node.hasAttribute('value_float')) {
    return Tensor.fromArray('value', 'float32', [], Float32Array.of(node.getFloat('value_float')));
  }
  if (node.hasAttribute('value_floats')) {
    const values = node.getFloats('value_floats');
    return Tensor.fromArray('value', 'float32', [values.length], Float32Array.from(values));
  }
  return undefined;
}
