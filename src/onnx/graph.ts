/**
 * A graph: nodes in topological order, its inputs/outputs, initializers and value types. Subgraphs
 * (If/Loop/Scan bodies) are Graphs owned by a node; they may read values of enclosing graphs by name
 * ("outer scope"), and the look-ups here account for that: a node whose body reads `w` is a consumer
 * of `w`, and is ordered after its producer.
 */

import { QuantkitError } from '../errors.js';
import type {
  SparseTensorProto,
  StringStringEntryProto,
  TensorAnnotation,
  ValueInfoProto,
} from './gen/onnx_pb.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';
import { type TensorType, tensorTypeOf } from './value-info.js';

interface Index {
  producers: Map<string, Node>;
  consumers: Map<string, Node[]>;
  /** Outer-scope names read inside each node's subgraphs. */
  implicit: Map<Node, Set<string>>;
  /** Names this graph reads without defining (for subgraphs: its outer-scope inputs). */
  free: Set<string>;
}

export class Graph {
  name = '';
  docString = '';
  inputs: ValueInfoProto[] = [];
  outputs: ValueInfoProto[] = [];
  readonly valueInfo = new Map<string, ValueInfoProto>();
  sparseInitializers: SparseTensorProto[] = [];
  quantizationAnnotation: TensorAnnotation[] = [];
  metadataProps: StringStringEntryProto[] = [];
  /** The node whose attribute holds this graph, for subgraphs. */
  owner: Node | undefined;
  private _nodes: Node[] = [];
  private readonly _initializers = new Map<string, Tensor>();
  private index: Index | undefined;
  private usedNames: Set<string> | undefined;

  get nodes(): readonly Node[] {
    return this._nodes;
  }

  get initializers(): ReadonlyMap<string, Tensor> {
    return this._initializers;
  }

  /** The enclosing graph of a subgraph. */
  get parent(): Graph | undefined {
    return this.owner?.graph;
  }

  get root(): Graph {
    return this.parent ? this.parent.root : this;
  }

  // ---- look-ups -------------------------------------------------------------------------------

  /** The node producing `name` in this graph (not in enclosing graphs). */
  producer(name: string): Node | undefined {
    return this.idx().producers.get(name);
  }

  /** Nodes of this graph reading `name`, directly or from inside their subgraphs. */
  consumers(name: string): readonly Node[] {
    return this.idx().consumers.get(name) ?? [];
  }

  /** Names read inside `node`'s subgraphs that come from this graph or further out. */
  implicitInputs(node: Node): ReadonlySet<string> {
    return this.idx().implicit.get(node) ?? new Set();
  }

  /** Names this graph reads but does not define: a subgraph's outer-scope inputs. */
  freeNames(): ReadonlySet<string> {
    return this.idx().free;
  }

  isGraphOutput(name: string): boolean {
    return this.outputs.some((o) => o.name === name);
  }

  isGraphInput(name: string): boolean {
    return this.inputs.some((i) => i.name === name);
  }

  /** An initializer of this graph or, for subgraphs, of an enclosing graph. */
  findInitializer(name: string): Tensor | undefined {
    return this._initializers.get(name) ?? this.parent?.findInitializer(name);
  }

  /** Element type and shape of a value as far as the model declares them (value_info, I/O, initializers). */
  tensorType(name: string): TensorType {
    const t = this._initializers.get(name);
    if (t) return { dtype: t.dtype, shape: [...t.dims] };
    const vi =
      this.valueInfo.get(name) ??
      this.inputs.find((v) => v.name === name) ??
      this.outputs.find((v) => v.name === name);
    if (vi) return tensorTypeOf(vi.type);
    return this.parent?.tensorType(name) ?? { dtype: undefined, shape: undefined };
  }

  /** This graph's nodes and, depth first, those of every subgraph, with the graph holding each. */
  *walk(): Generator<{ node: Node; graph: Graph }> {
    for (const node of this._nodes) {
      yield { node, graph: this };
      for (const sub of node.subgraphs()) yield* sub.walk();
    }
  }

  /** This graph and all graphs nested in it. */
  *graphs(): Generator<Graph> {
    yield this;
    for (const node of this._nodes) for (const sub of node.subgraphs()) yield* sub.graphs();
  }

  /**
   * A name not used anywhere in the model (values and node names, all subgraphs included), derived
   * from `base`, and reserved so the next call does not return it again.
   */
  uniqueName(base: string): string {
    const used = this.root.names();
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  }

  // ---- editing --------------------------------------------------------------------------------

  addNode(node: Node, at?: { before?: Node; after?: Node }): Node {
    if (node.graph && node.graph !== this) node.graph.removeNode(node);
    let pos = this._nodes.length;
    if (at?.before) pos = this.positionOf(at.before);
    else if (at?.after) pos = this.positionOf(at.after) + 1;
    this._nodes.splice(pos, 0, node);
    node.graph = this;
    this.invalidate();
    return node;
  }

  removeNode(node: Node): void {
    const pos = this._nodes.indexOf(node);
    if (pos < 0) return;
    this._nodes.splice(pos, 1);
    node.graph = undefined;
    this.invalidate();
  }

  addInitializer(tensor: Tensor): Tensor {
    this._initializers.set(tensor.name, tensor);
    this.invalidate();
    return tensor;
  }

  removeInitializer(name: string): void {
    if (this._initializers.delete(name)) this.invalidate();
  }

  /**
   * Puts `node` on the edge carrying `value`: `node` must read `value` and write one output, which
   * replaces `value` for the given consumers (all of them by default). When `value` is a graph output
   * and all consumers move, the graph keeps its output name: the producer's output is renamed and
   * `node` writes the original name.
   */
  insertOnEdge(value: string, node: Node, consumers?: readonly Node[]): void {
    if (node.outputs.length !== 1 || !node.inputs.includes(value)) {
      throw new Error(`insertOnEdge: ${node.label} must read '${value}' and write exactly one output`);
    }
    const targets = [...(consumers ?? this.consumers(value))].filter((c) => c !== node);
    if (consumers === undefined && this.isGraphOutput(value) && this.producer(value)) {
      const pre = this.uniqueName(`${value}_pre`);
      this.renameValue(value, pre);
      node.setInputs(node.inputs.map((i) => (i === value ? pre : i)));
      node.setOutput(0, value);
      for (const c of targets) this.replaceInputs(c, pre, value);
    } else {
      for (const c of targets) this.replaceInputs(c, value, node.outputs[0]);
    }
    this.addNode(node, this.insertionPoint(node));
  }

  /** Makes every reader of `from` (subgraphs included) read `to` instead. Graph outputs only if asked. */
  replaceAllUses(
    from: string,
    to: string,
    opts: { except?: ReadonlySet<Node>; graphOutputs?: boolean } = {},
  ): void {
    for (const { node } of this.walk()) {
      if (opts.except?.has(node)) continue;
      if (node.inputs.includes(from)) node.setInputs(node.inputs.map((i) => (i === from ? to : i)));
    }
    if (opts.graphOutputs) for (const o of this.outputs) if (o.name === from) o.name = to;
    this.invalidate();
  }

  /** Removes nodes whose outputs nothing reads (no consumer, no graph output). Returns how many. */
  removeDeadNodes(): number {
    const live = new Set<string>(this.outputs.map((o) => o.name));
    const keep: Node[] = [];
    const ordered = this.topologicalOrder();
    for (let i = ordered.length - 1; i >= 0; i--) {
      const node = ordered[i];
      if (!node.outputs.some((o) => o !== '' && live.has(o))) continue;
      keep.push(node);
      for (const n of node.inputs) live.add(n);
      for (const n of this.implicitInputs(node)) live.add(n);
    }
    const removed = this._nodes.length - keep.length;
    if (removed > 0) {
      const kept = new Set(keep);
      for (const n of this._nodes) if (!kept.has(n)) n.graph = undefined;
      this._nodes = this._nodes.filter((n) => kept.has(n));
      this.invalidate();
    }
    return removed;
  }

  /** Removes initializers no node (or subgraph) reads and that are not graph outputs. Returns how many. */
  removeUnusedInitializers(): number {
    let removed = 0;
    for (const name of [...this._initializers.keys()]) {
      if (this.consumers(name).length > 0 || this.isGraphOutput(name)) continue;
      this._initializers.delete(name);
      this.inputs = this.inputs.filter((i) => i.name !== name);
      removed++;
    }
    if (removed > 0) this.invalidate();
    return removed;
  }

  /** Reorders the nodes topologically, keeping the current order wherever it is already valid. */
  sortTopologically(): void {
    this._nodes = this.topologicalOrder();
    this.invalidate();
  }

  /** The nodes in a valid execution order; throws naming a node on a cycle. */
  topologicalOrder(): Node[] {
    const { producers } = this.idx();
    const state = new Map<Node, 1 | 2>(); // 1 = on the DFS stack, 2 = emitted
    const order: Node[] = [];
    const deps = (n: Node): Node[] => {
      const out: Node[] = [];
      for (const name of [...n.inputs, ...this.implicitInputs(n)]) {
        const p = name === '' ? undefined : producers.get(name);
        if (p && p !== n) out.push(p);
      }
      return out;
    };
    for (const start of this._nodes) {
      if (state.has(start)) continue;
      const stack: { node: Node; deps: Node[]; i: number }[] = [{ node: start, deps: deps(start), i: 0 }];
      state.set(start, 1);
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        if (top.i < top.deps.length) {
          const d = top.deps[top.i++];
          const s = state.get(d);
          if (s === 1) throw new QuantkitError(`the graph has a cycle through ${d.label}`);
          if (s === undefined) {
            state.set(d, 1);
            stack.push({ node: d, deps: deps(d), i: 0 });
          }
        } else {
          state.set(top.node, 2);
          order.push(top.node);
          stack.pop();
        }
      }
    }
    return order;
  }

  /** Drops cached look-ups; called by every edit (nodes notify their graph when their edges change). */
  invalidate(): void {
    this.index = undefined;
    this.usedNames = undefined;
    this.parent?.invalidate();
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The producer writes `to` instead of `from`, and every reader follows; graph outputs keep their names. */
  private renameValue(from: string, to: string): void {
    const p = this.producer(from);
    if (p) p.setOutputs(p.outputs.map((o) => (o === from ? to : o)));
    this.replaceAllUses(from, to);
  }

  private replaceInputs(node: Node, from: string, to: string): void {
    if (node.inputs.includes(from)) {
      node.setInputs(node.inputs.map((i) => (i === from ? to : i)));
      return;
    }
    // The node reads `from` inside a subgraph.
    for (const sub of node.subgraphs()) sub.replaceAllUses(from, to, { graphOutputs: true });
  }

  /** Right after the producers of the node's inputs, so the node list stays topologically sorted. */
  private insertionPoint(node: Node): { after?: Node; before?: Node } {
    let last = -1;
    for (const i of node.inputs) {
      const p = this.producer(i);
      if (p) last = Math.max(last, this._nodes.indexOf(p));
    }
    return last >= 0 ? { after: this._nodes[last] } : { before: this._nodes[0] };
  }

  private positionOf(node: Node): number {
    const i = this._nodes.indexOf(node);
    if (i < 0) throw new Error(`${node.label} is not in this graph`);
    return i;
  }

  private idx(): Index {
    if (this.index) return this.index;
    const producers = new Map<string, Node>();
    const consumers = new Map<string, Node[]>();
    const implicit = new Map<Node, Set<string>>();
    const addConsumer = (name: string, node: Node) => {
      if (name === '') return;
      const list = consumers.get(name);
      if (!list) consumers.set(name, [node]);
      else if (list[list.length - 1] !== node) list.push(node);
    };
    for (const node of this._nodes) {
      for (const o of node.outputs) if (o !== '') producers.set(o, node);
      for (const i of node.inputs) addConsumer(i, node);
      const subs = node.subgraphs();
      if (subs.length > 0) {
        const names = new Set<string>();
        for (const sub of subs) for (const n of sub.freeNames()) names.add(n);
        implicit.set(node, names);
        for (const n of names) addConsumer(n, node);
      }
    }
    const defined = new Set<string>([
      ...this.inputs.map((i) => i.name),
      ...this._initializers.keys(),
      ...producers.keys(),
    ]);
    const free = new Set<string>();
    for (const name of [...consumers.keys(), ...this.outputs.map((o) => o.name)])
      if (!defined.has(name)) free.add(name);
    this.index = { producers, consumers, implicit, free };
    return this.index;
  }

  private names(): Set<string> {
    if (this.usedNames) return this.usedNames;
    const used = new Set<string>();
    for (const g of this.graphs()) {
      for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo.values()]) used.add(v.name);
      for (const n of g._initializers.keys()) used.add(n);
      for (const node of g._nodes) {
        if (node.name) used.add(node.name);
        for (const o of node.outputs) used.add(o);
        for (const i of node.inputs) used.add(i);
      }
    }
    this.usedNames = used;
    return used;
  }
}
