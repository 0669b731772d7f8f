/**
 * Re-initialises a model for training from scratch (He et al. 2015): Conv, ConvTranspose, Gemm and
 * MatMul weights drawn from N(0, 2/fan_in), their biases 0; BatchNormalization to scale 1, shift 0,
 * running mean 0 and variance 1. Seeded, so the same seed gives the same start.
 */
import type { Graph } from '../onnx/graph.js';
import type { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';
import { createRng, type Rng } from '../tensor/random.js';
import { batchNormNodes } from './batchnorm.js';

export function heInitialize(g: Graph, seed: number): number {
  const rng = createRng(seed);
  let count = 0;
  const set = (name: string, fill: (n: number) => Float32Array) => {
    const t = g.initializers.get(name);
    if (!t || t.dtype !== 'float32') return;
    g.addInitializer(Tensor.fromArray(name, 'float32', t.dims, fill(t.size)));
    count++;
  };
  for (const n of g.nodes) {
    const weight = n.inputs[1];
    const t = weight ? g.initializers.get(weight) : undefined;
    const fan = t && fanIn(n, t.dims);
    if (!t || fan === undefined) continue;
    const std = Math.sqrt(2 / fan);
    set(weight, (size) => normals(rng, size, std));
    if (n.opType !== 'MatMul' && n.inputs[2]) set(n.inputs[2], (size) => new Float32Array(size));
  }
  for (const n of batchNormNodes(g)) {
    const [scale, shift, mean, variance] = n.inputs.slice(1, 5);
    set(scale, (size) => new Float32Array(size).fill(1));
    set(shift, (size) => new Float32Array(size));
    set(mean, (size) => new Float32Array(size));
    set(variance, (size) => new Float32Array(size).fill(1));
  }
  return count;
}

/** Inputs feeding one output unit; undefined for nodes that have no weight to initialise. */
function fanIn(n: Node, dims: readonly number[]): number | undefined {
  if (!n.isStandard) return undefined;
  const receptive = dims.slice(2).reduce((a, b) => a * b, 1);
  switch (n.opType) {
    case 'Conv':
    case 'ConvTranspose':
      // As PyTorch counts it: the weight's second dimension times the kernel size.
      return dims.length >= 3 ? dims[1] * receptive : undefined;
    case 'Gemm':
      return dims.length === 2 ? dims[n.getInt('transB', 0) ? 1 : 0] : undefined;
    case 'MatMul':
      return dims.length === 2 ? dims[0] : undefined;
    default:
      return undefined;
  }
}

/** Normal deviates by the Box–Muller transform. */
function normals(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng.nextFloat();
    const r = std * Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * rng.nextFloat();
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}
