/**
 * Which nodes constant folding may evaluate: deterministic standard ops without subgraphs whose
 * inputs are all constants (initializers in scope, or outputs of other foldable nodes), in every
 * graph. The frontier is what folding must materialize: foldable outputs that something else reads.
 */
import { AttributeProto_AttributeType as AT } from '../../onnx/gen/onnx_pb.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { type DType, dtypeFromOnnx } from '../../tensor/dtype.js';
import { definitionOf } from './constants.js';

/** Their results differ from run to run. */
const NONDETERMINISTIC = new Set([
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
  'Dropout',
]);

/**
 * DequantizeLinear is left alone: folding it would turn a quantized weight back into a float one.
 * Sequence and optional ops produce values that cannot be initializers.
 */
const NOT_FOLDED = new Set(['DequantizeLinear', 'SplitToSequence', 'ConcatFromSequence']);
const NON_TENSOR = /^(Sequence|Optional)/;

/** Element types onnxruntime-node can hand back (it aborts on 4-bit outputs, refuses bfloat16 and float8). */
const READABLE = new Set<DType>([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
]);

/** Attributes that set an op's output element type (Cast, EyeLike, QuantizeLinear-21...). */
const TYPE_ATTRIBUTES = ['to', 'dtype', 'output_dtype'];

export interface FoldValue {
  graph: Graph;
  name: string;
  node: Node;
}

export class ConstantPlan {
  /** Foldable nodes, outer graphs first and each graph's in execution order. */
  readonly nodes: Node[] = [];
  readonly foldable = new Set<Node>();
  /** Foldable outputs read by nodes that stay. */
  readonly frontier: FoldValue[] = [];
  /** Frontier nodes with an output ONNX Runtime cannot return, and the offending type. */
  readonly unreadable = new Map<Node, string>();

  constructor(
    readonly model: Model,
    excluded: ReadonlySet<Node>,
  ) {
    /** Nodes whose outputs have, or may have, a type that cannot be read back. */
    const opaque = new Map<Node, string>();
    for (const graph of model.graph.graphs()) {
      for (const node of graph.topologicalOrder()) {
        if (excluded.has(node) || !isCandidate(graph, node)) continue;
        const sources = node.inputs.filter((i) => i !== '').map((i) => definitionOf(model, graph, i));
        if (!sources.every((d) => d.kind === 'constant' || (d.kind === 'node' && this.foldable.has(d.node))))
          continue;
        this.foldable.add(node);
        this.nodes.push(node);
        const declared = declaredType(node);
        const inherited = sources
          .map((d) =>
            d.kind === 'constant'
              ? readable(d.tensor.dtype)
              : d.kind === 'node'
                ? opaque.get(d.node)
                : undefined,
          )
          .find((t) => t !== undefined);
        const bad = declared === undefined ? inherited : readable(declared);
        if (bad !== undefined) opaque.set(node, bad);
      }
    }
    for (const node of this.nodes) {
      const graph = node.graph!;
      for (const name of node.outputs) {
        if (name === '' || graph.consumers(name).every((c) => this.foldable.has(c))) continue;
        this.frontier.push({ graph, name, node });
        const bad = opaque.get(node);
        if (bad !== undefined) this.unreadable.set(node, bad);
      }
    }
  }

  /** Bytes of the constant initializers `node` is computed from (shared ones counted per use). */
  sourceBytes(node: Node, memo = new Map<Node, number>()): number {
    const known = memo.get(node);
    if (known !== undefined) return known;
    let total = 0;
    for (const name of node.inputs) {
      if (name === '') continue;
      const d = definitionOf(this.model, node.graph!, name);
      if (d.kind === 'constant') total += d.tensor.byteLength;
      else if (d.kind === 'node') total += this.sourceBytes(d.node, memo);
    }
    memo.set(node, total);
    return total;
  }
}

function isCandidate(graph: Graph, node: Node): boolean {
  return (
    node.isStandard &&
    !NONDETERMINISTIC.has(node.opType) &&
    !NOT_FOLDED.has(node.opType) &&
    !NON_TENSOR.test(node.opType) &&
    node.subgraphs().length === 0 &&
    node.inputs.some((i) => i !== '') &&
    node.outputs.some((o) => o !== '') &&
    // A graph output stays the output of a node: initializers as (sub)graph outputs are not portable.
    !node.outputs.some((o) => graph.isGraphOutput(o))
  );
}

/** The output type the node's attributes fix, if they do. */
function declaredType(node: Node): DType | 'unknown' | undefined {
  if (node.opType === 'ConstantOfShape') return node.getTensor('value')?.dtype ?? 'float32';
  for (const name of TYPE_ATTRIBUTES) {
    const a = node.attribute(name);
    if (a?.type === AT.INT && a.proto.i !== 0n) return dtypeFromOnnx(Number(a.proto.i)) ?? 'unknown';
  }
  return undefined;
}

/** undefined when ONNX Runtime can return the type, else the type's name. */
function readable(dtype: DType | 'unknown'): string | undefined {
  return dtype !== 'unknown' && READABLE.has(dtype) ? undefined : dtype;
}
