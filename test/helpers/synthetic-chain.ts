/**
 * A model of any size that costs no memory to make: a chain of MatMuls shaped like a transformer's
 * MLP (up- then down-projection, repeated), whose weights are computed from their position when read.
 * Saving it streams the weights to disk chunk by chunk, and `chainWeight` recomputes any layer later
 * for checking a quantized copy against its float original.
 */
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { ByteSource } from '../../src/onnx/byte-source.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';

export interface ChainSpec {
  layers: number;
  /** Width of the chain's input and output. */
  width: number;
  /** Hidden width of the odd layers' input: layer i is [width, hidden] for even i, [hidden, width] for odd. */
  hidden: number;
}

export function layerShape(spec: ChainSpec, layer: number): [k: number, n: number] {
  return layer % 2 === 0 ? [spec.width, spec.hidden] : [spec.hidden, spec.width];
}

/** Float32 bytes of all the chain's weights. */
export function chainBytes(spec: ChainSpec): number {
  return spec.layers * spec.width * spec.hidden * 4;
}

/**
 * Element `index` of layer `layer`'s [K, N] weight, row-major: uniform in ±√(3/K) (variance 1/K, so
 * activations keep their scale along the chain), from an integer hash of its position.
 */
export function chainValue(layer: number, index: number, k: number): number {
  let h = Math.imul(index ^ Math.imul(layer + 1, 0x9e3779b9), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) / 2 ** 32 - 0.5) * 2 * Math.sqrt(3 / k);
}

export function chainWeight(spec: ChainSpec, layer: number): Float32Array {
  const [k, n] = layerShape(spec, layer);
  const out = new Float32Array(k * n);
  for (let i = 0; i < out.length; i++) out[i] = chainValue(layer, i, k);
  return out;
}

/** Layer `layer`'s weight bytes, computed for whatever range is read. */
function weightSource(layer: number, k: number, n: number): ByteSource {
  return {
    name: `<chain layer ${layer}>`,
    size: k * n * 4,
    read(offset, length) {
      if (offset % 4 !== 0 || length % 4 !== 0) throw new RangeError('reads must be whole float32 values');
      const out = new Float32Array(length / 4);
      for (let i = 0, at = offset / 4; i < out.length; i++, at++) out[i] = chainValue(layer, at, k);
      return new Uint8Array(out.buffer);
    },
  };
}

/** x [batch, width] → MatMul w0 → MatMul w1 → … → y [batch, width]. */
export function syntheticChain(spec: ChainSpec): Model {
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  let x = 'x';
  for (let i = 0; i < spec.layers; i++) {
    const [k, n] = layerShape(spec, i);
    const range = { source: weightSource(i, k, n), offset: 0, length: k * n * 4 };
    initializers.push(new Tensor(`w${i}`, 'float32', [k, n], { kind: 'range', range }));
    nodes.push(new Node('MatMul', [x, `w${i}`], [`h${i}`], { name: `layer${i}` }));
    x = `h${i}`;
  }
  const last = layerShape(spec, spec.layers - 1)[1];
  const graph = makeGraph({
    nodes,
    inputs: [makeValueInfo('x', 'float32', ['batch', spec.width])],
    outputs: [makeValueInfo(x, 'float32', ['batch', last])],
    initializers,
  });
  return makeModel(graph, { opsets: { '': 17 } });
}
