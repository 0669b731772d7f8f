/**
 * The decisions of a float16 conversion, made on the untouched model: which nodes stay float32 (and
 * why), which float32 initializers become float16, and so the element type every float32 value will
 * have — from which Casts follow wherever a reader needs the other type.
 */
import type { Graph } from '../../onnx/graph.js';
import { type DtypeMap, inferDtypes } from '../../onnx/infer-dtypes.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { nodeSelected } from '../node-filter.js';
import { filterReason } from '../pass-report.js';
import { inputRole, outputFollows } from './op-roles.js';
import { FLOAT16_CONTRIB_OPS, type ResolvedFp16Options } from './options.js';

export type FloatType = 'float16' | 'float32';

export class Fp16Plan {
  /** Element types of the original model. */
  readonly dtypes: DtypeMap;
  /** Nodes that stay float32, with the reason. */
  readonly kept = new Map<Node, string>();
  /** Float32 initializers that become float16, by graph. */
  readonly halfInitializers = new Map<Graph, Set<string>>();
  private readonly inputNames = new Map<Graph, Set<string>>();

  constructor(
    private readonly model: Model,
    private readonly options: ResolvedFp16Options,
  ) {
    this.dtypes = inferDtypes(model);
    this.keep(model.graph, undefined);
    for (const { node, graph } of model.graph.walk()) {
      node.inputs.forEach((name, i) => {
        if (!this.isFloat(name) || this.want(node, i) === 'float32') return;
        const owner = this.definer(graph, name);
        if (!owner?.initializers.has(name) || this.isInput(owner, name) || owner.isGraphOutput(name)) return;
        let names = this.halfInitializers.get(owner);
        if (!names) this.halfInitializers.set(owner, (names = new Set()));
        names.add(name);
      });
    }
  }

  /** True for values that are float32 in the original model: the ones the conversion is about. */
  isFloat(name: string): boolean {
    return name !== '' && this.dtypes.get(name) === 'float32';
  }

  converted(node: Node): boolean {
    return !this.kept.has(node);
  }

  /** What `node` needs at its float32 input `index`; undefined when any float type will do. */
  want(node: Node, index: number): FloatType | undefined {
    if (!this.converted(node)) return 'float32';
    const role = inputRole(node, index);
    return role === 'follow' ? 'float16' : role === 'float32' ? 'float32' : undefined;
  }

  /** The type a subgraph output must have: that of the output of the node owning the subgraph. */
  wantOutput(graph: Graph): FloatType {
    return graph.owner && this.converted(graph.owner) ? 'float16' : 'float32';
  }

  /** The graph defining `name` as seen from `graph`: by a node, an input or an initializer. */
  definer(graph: Graph, name: string): Graph | undefined {
    for (let g: Graph | undefined = graph; g; g = g.parent) {
      if (g.producer(name) || g.initializers.has(name) || this.isInput(g, name)) return g;
    }
    return undefined;
  }

  /** The element type a float32 value will have after the conversion, as read from `graph`. */
  newType(graph: Graph, name: string): FloatType {
    const owner = this.definer(graph, name);
    if (!owner) return 'float32';
    const producer = owner.producer(name);
    if (producer) {
      return this.converted(producer) && outputFollows(producer, producer.outputs.indexOf(name))
        ? 'float16'
        : 'float32';
    }
    if (this.isInput(owner, name)) {
      if (owner.initializers.has(name)) return 'float32';
      if (owner === this.model.graph) return this.options.keepIoTypes ? 'float32' : 'float16';
      // A Loop/Scan body input carries the value the node passes in, which follows the node.
      return this.wantOutput(owner);
    }
    return this.halfInitializers.get(owner)?.has(name) ? 'float16' : 'float32';
  }

  private isInput(graph: Graph, name: string): boolean {
    let names = this.inputNames.get(graph);
    if (!names) this.inputNames.set(graph, (names = new Set(graph.inputs.map((i) => i.name))));
    return names.has(name);
  }

  /** Records the nodes that stay float32; everything inside a kept If/Loop/Scan stays with it. */
  private keep(graph: Graph, inherited: string | undefined): void {
    for (const node of graph.nodes) {
      const reason = inherited ?? this.blockReason(node);
      if (reason !== undefined) this.kept.set(node, reason);
      const inside =
        reason === undefined ? undefined : (inherited ?? `inside ${node.label}, which stays float32`);
      for (const sub of node.subgraphs()) this.keep(sub, inside);
    }
  }

  private blockReason(node: Node): string | undefined {
    const { blocked, filter } = this.options;
    const listed = blocked.get(node.opType);
    if (listed !== undefined) return `${node.opType}: ${listed}`;
    if (!nodeSelected(node, filter)) return filterReason(node, filter);
    if (!node.isStandard && !FLOAT16_CONTRIB_OPS.has(node.opType)) {
      return `${node.domain}.${node.opType} is not known to run in float16`;
    }
    if (node.opType === 'Constant' && node.hasAttribute('sparse_value')) return 'a sparse Constant';
    return undefined;
  }
}
