/**
 * Which initializers training updates, read out as typed arrays, and written back into a model.
 * Trainable: float32 initializers of more than one element (weights, biases, normalisation scales and
 * shifts, embeddings) and the quantizer scales the caller adds, except BatchNormalization's running
 * statistics (updated from batch statistics, not by gradients). Scalars stay: they are clip bounds,
 * exponents and the like, which a gradient step would corrupt.
 */
import type { Graph } from '../onnx/graph.js';
import type { Model } from '../onnx/model.js';
import { Tensor } from '../onnx/tensor.js';
import type { Parameter } from './optim/optimizer.js';

export function runningStatistics(g: Graph): Set<string> {
  const out = new Set<string>();
  for (const n of g.nodes) {
    if (n.opType === 'BatchNormalization' && n.isStandard) for (const i of n.inputs.slice(3, 5)) out.add(i);
  }
  return out;
}

export function trainableNames(model: Model, extra: readonly string[] = []): string[] {
  const g = model.graph;
  const stats = runningStatistics(g);
  const names = new Set<string>();
  for (const [name, t] of g.initializers) {
    if (t.dtype === 'float32' && t.size > 1 && !stats.has(name) && g.consumers(name).length > 0)
      names.add(name);
  }
  for (const n of extra) names.add(n);
  return [...names];
}

/** Copies of the initializers' values; weight decay for tensors of rank ≥ 2 (weights, not biases). */
export function readParameters(g: Graph, names: readonly string[], noDecay = new Set<string>()): Parameter[] {
  return names.map((name) => {
    const t = g.initializers.get(name);
    if (!t) throw new Error(`parameter '${name}' is not an initializer of the main graph`);
    return {
      name,
      shape: [...t.dims],
      data: Float32Array.from(t.toFloat32()),
      decay: t.dims.length >= 2 && !noDecay.has(name),
    };
  });
}

/** Replaces each named initializer of `g` with the given values (same shape). */
export function writeParameters(g: Graph, values: ReadonlyMap<string, Float32Array>): void {
  for (const [name, data] of values) {
    const old = g.initializers.get(name);
    if (!old) continue;
    const t = Tensor.fromArray(name, 'float32', old.dims, Float32Array.from(data));
    t.extras = old.extras;
    g.addInitializer(t);
  }
}

export function asMap(params: readonly Parameter[]): Map<string, Float32Array> {
  return new Map(params.map((p) => [p.name, p.data]));
}
