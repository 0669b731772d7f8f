/**
 * Calibration statistics computed inside the ONNX Runtime session: per observed value, its min, max,
 * element count, a NaN check (its sum), and — for percentile calibration — its K largest and smallest
 * values. Only these few numbers leave the session instead of every activation of every batch, which
 * is what makes calibration cost about as much as inference.
 */
import { Attribute } from '../onnx/attribute.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';
import { makeValueInfo } from '../onnx/value-info.js';

export interface ReducedOutputs {
  /** With tails, the min and max are their first values instead. */
  min?: string;
  max?: string;
  size: string;
  sum: string;
  /** Present with tails: the graph input taking K, and the outputs with the K largest/smallest values. */
  k?: string;
  top?: string;
  bottom?: string;
}

/** TopK with `largest` (opset 11) and Min over int64 (opset 12). */
export const TAILS_MIN_OPSET = 12;

/**
 * Replaces each exposed value among `model`'s outputs by its reductions. `values` maps the observed
 * value to the output holding it (see exposeValues); the model is edited in place.
 */
export function addReductions(
  model: Model,
  values: ReadonlyMap<string, string>,
  tails: boolean,
): Map<string, ReducedOutputs> {
  const g = model.graph;
  const flatShape = g.uniqueName('quantkit_flat_shape');
  const one = g.uniqueName('quantkit_one');
  g.addInitializer(Tensor.fromArray(flatShape, 'int64', [1], BigInt64Array.of(-1n)));
  g.addInitializer(Tensor.fromArray(one, 'int64', [1], BigInt64Array.of(1n)));
  const raw = new Set(values.values());
  g.outputs = g.outputs.filter((o) => !raw.has(o.name));
  const out = new Map<string, ReducedOutputs>();
  const keep0 = () => [Attribute.int('keepdims', 0)];
  for (const [value, output] of values) {
    const name = (s: string) => g.uniqueName(`${output}_${s}`);
    const flat = name('flat');
    const r: ReducedOutputs = { size: name('size'), sum: name('sum') };
    if (!tails) {
      r.min = name('min');
      r.max = name('max');
    }
    g.addNode(new Node('Reshape', [output, flatShape], [flat]));
    g.addNode(new Node('ReduceSum', [flat], [r.sum], { attributes: keep0() }));
    g.addNode(new Node('Size', [flat], [r.size]));
    if (r.min && r.max) {
      g.addNode(new Node('ReduceMin', [flat], [r.min], { attributes: keep0() }));
      g.addNode(new Node('ReduceMax', [flat], [r.max], { attributes: keep0() }));
    } else {
      r.k = name('k');
      r.top = name('top');
      r.bottom = name('bottom');
      const size1 = name('size1');
      const k = name('k_eff');
      g.inputs.push(makeValueInfo(r.k, 'int64', [1]));
      g.addNode(new Node('Reshape', [r.size, one], [size1]));
      g.addNode(new Node('Min', [r.k, size1], [k]));
      g.addNode(new Node('TopK', [flat, k], [r.top, name('top_indices')]));
      g.addNode(
        new Node('TopK', [flat, k], [r.bottom, name('bottom_indices')], {
          attributes: [Attribute.int('largest', 0)],
        }),
      );
    }
    for (const o of [r.min, r.max, r.sum, r.top, r.bottom])
      if (o) g.outputs.push(makeValueInfo(o, 'float32'));
    g.outputs.push(makeValueInfo(r.size, 'int64'));
    out.set(value, r);
  }
  return out;
}
