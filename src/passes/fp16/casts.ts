/**
 * Casts between float16 and float32 where a reader needs the other type. Each value gets at most one
 * Cast per target type, placed in the graph defining the value (right after its producer), so readers
 * in nested subgraphs share it.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';
import type { FloatType } from './plan.js';

export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;

export function castNode(graph: Graph, input: string, output: string, to: FloatType): Node {
  return new Node('Cast', [input], [output], {
    name: graph.uniqueName(`${output}_Cast`),
    attributes: [Attribute.int('to', to === 'float16' ? ONNX_FLOAT16 : ONNX_FLOAT)],
  });
}

export class CastInserter {
  /** Casts added so far. */
  count = 0;
  private readonly made = new Map<Graph, Map<string, string>>();

  /** `value` (defined in `owner`) converted to `to`: the name of the Cast's output. */
  cast(owner: Graph, value: string, to: FloatType): string {
    let casts = this.made.get(owner);
    if (!casts) this.made.set(owner, (casts = new Map()));
    const key = `${value}\u0000${to}`;
    let out = casts.get(key);
    if (out === undefined) {
      out = owner.uniqueName(`${value}_${to}`);
      const node = castNode(owner, value, out, to);
      const producer = owner.producer(value);
      owner.addNode(
        node,
        producer ? { after: producer } : owner.nodes.length > 0 ? { before: owner.nodes[0] } : {},
      );
      casts.set(key, out);
      this.count++;
    }
    return out;
  }
}
