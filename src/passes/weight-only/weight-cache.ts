/**
 * Quantized weights, made once per (weight, form): nodes sharing a weight share its quantized
 * initializers, which live in the graph holding the float original so that every reader (main graph,
 * If branches, Loop bodies) finds them. Float originals that nothing reads any more are dropped at the
 * end; one still read elsewhere (a tied embedding's Gather, an excluded node) stays.
 */
import type { Graph } from '../../onnx/graph.js';
import type { ConstantTensor } from './constant-matrix.js';

export class WeightCache<T> {
  private readonly made = new Map<string, T>();
  private readonly ids = new Map<Graph, number>();
  private readonly sources = new Map<Graph, Set<string>>();

  /** The quantized form `form` of `weight`; `make` builds it the first time only. */
  get(weight: ConstantTensor, form: string, make: () => T): T {
    const { owner, tensor } = weight;
    this.replaced(weight);
    let id = this.ids.get(owner);
    if (id === undefined) this.ids.set(owner, (id = this.ids.size));
    const key = `${id}\u0000${tensor.name}\u0000${form}`;
    let value = this.made.get(key);
    if (value === undefined) this.made.set(key, (value = make()));
    return value;
  }

  /** Marks a float original that a rewrite may have left unread (a weight, a Gemm bias). */
  replaced({ owner, tensor }: ConstantTensor): void {
    let names = this.sources.get(owner);
    if (!names) this.sources.set(owner, (names = new Set()));
    names.add(tensor.name);
  }

  /** Removes the float originals no node reads any more. */
  dropUnused(): void {
    for (const [owner, names] of this.sources) {
      for (const name of names) {
        if (owner.consumers(name).length > 0 || owner.isGraphOutput(name)) continue;
        owner.removeInitializer(name);
        owner.valueInfo.delete(name);
      }
    }
  }
}
