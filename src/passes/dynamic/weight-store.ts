/**
 * Quantized weights (and biases reshaped for the integer ops) as initializers. Each is stored in the
 * graph holding the float original, so every reader (the main graph, If branches, Loop bodies) finds
 * it, and is made once per form: two nodes sharing a weight share its quantized copy. Float originals
 * nothing reads any more are dropped at the end.
 */
import type { Graph } from '../../onnx/graph.js';
import type { Tensor } from '../../onnx/tensor.js';
import type { QuantizedWeight, WeightNames } from '../../quant/weights.js';
import type { ConstantWeight } from './constant-weight.js';

export class WeightStore {
  private readonly quantized = new Map<string, QuantizedWeight>();
  private readonly derived = new Map<string, Tensor>();
  private readonly keys = new Map<Graph, number>();
  private readonly sources = new Map<Graph, Set<string>>();

  /**
   * The quantized form `form` (a key naming the layout and parameters) of `weight`; `make` quantizes
   * it under the names given, the first time only.
   */
  quantize(
    weight: ConstantWeight,
    form: string,
    make: (names: WeightNames) => QuantizedWeight,
  ): QuantizedWeight {
    const key = this.key(weight, form);
    let q = this.quantized.get(key);
    if (!q) {
      const { owner, tensor } = weight;
      q = make({
        values: owner.uniqueName(`${tensor.name}_quantized`),
        scale: owner.uniqueName(`${tensor.name}_scale`),
        zeroPoint: owner.uniqueName(`${tensor.name}_zero_point`),
      });
      owner.addInitializer(q.values);
      owner.addInitializer(q.scale);
      owner.addInitializer(q.zeroPoint);
      this.quantized.set(key, q);
    }
    return q;
  }

  /** A float tensor computed from `weight` (a reshaped or scaled bias), named after it, made once per form. */
  derive(weight: ConstantWeight, form: string, make: (name: string) => Tensor): Tensor {
    const key = this.key(weight, form);
    let t = this.derived.get(key);
    if (!t) {
      t = weight.owner.addInitializer(make(weight.owner.uniqueName(`${weight.tensor.name}_${form}`)));
      this.derived.set(key, t);
    }
    return t;
  }

  /** Removes the float originals that no node reads any more. */
  dropUnused(): void {
    for (const [owner, names] of this.sources) {
      for (const name of names) {
        if (owner.consumers(name).length > 0 || owner.isGraphOutput(name)) continue;
        owner.removeInitializer(name);
        owner.valueInfo.delete(name);
      }
    }
  }

  private key({ owner, tensor }: ConstantWeight, form: string): string {
    let names = this.sources.get(owner);
    if (!names) this.sources.set(owner, (names = new Set()));
    names.add(tensor.name);
    let id = this.keys.get(owner);
    if (id === undefined) this.keys.set(owner, (id = this.keys.size));
    return `${id}\u0000${tensor.name}\u0000${form}`;
  }
}
