/**
 * The arithmetic of folding an inference-mode BatchNormalization into the layer before it:
 *   s = γ/√(σ²+ε),  W' = W·s per output channel,  b' = (b − μ)·s + β.
 * Everything is computed in float64 and rounded to float32 once.
 */

export interface BatchNormFactors {
  /** γ/√(σ²+ε) per channel. */
  scale: Float64Array;
  mean: Float64Array;
  beta: Float64Array;
}

export function batchNormFactors(
  gamma: Float64Array,
  beta: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
  epsilon: number,
): BatchNormFactors {
  const scale = new Float64Array(gamma.length);
  for (let c = 0; c < scale.length; c++) scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
  return { scale, mean, beta };
}

/** Where a weight keeps its output channels. */
export type WeightLayout =
  /** [C_out, ...]: Conv, Gemm with transB. */
  | { kind: 'rows' }
  /** [..., C_out]: MatMul, Gemm without transB. */
  | { kind: 'columns' }
  /** [C_in, C_out/group, ...]: ConvTranspose; input channel i belongs to group ⌊i/(C_in/group)⌋. */
  | { kind: 'convTranspose'; group: number };

export function scaleWeight(
  w: Float32Array,
  dims: readonly number[],
  layout: WeightLayout,
  scale: Float64Array,
): Float32Array {
  const out = new Float32Array(w.length);
  if (layout.kind === 'columns') {
    const n = dims[dims.length - 1];
    for (let i = 0; i < w.length; i++) out[i] = w[i] * scale[i % n];
    return out;
  }
  const inner = w.length / dims[0];
  if (layout.kind === 'rows') {
    for (let o = 0; o < dims[0]; o++) {
      const s = scale[o];
      for (let i = o * inner; i < (o + 1) * inner; i++) out[i] = w[i] * s;
    }
    return out;
  }
  const perGroupOut = dims[1];
  const perGroupIn = dims[0] / layout.group;
  const kernel = inner / perGroupOut;
  for (let ci = 0; ci < dims[0]; ci++) {
    const firstChannel = Math.floor(ci / perGroupIn) * perGroupOut;
    for (let j = 0; j < perGroupOut; j++) {
      const s = scale[firstChannel + j];
      const start = (ci * perGroupOut + j) * kernel;
      for (let i = start; i < start + kernel; i++) out[i] = w[i] * s;
    }
  }
  return out;
}

/**
 * The folded bias for `rows` rows of C channels (row-major); `bias` has the same layout, or is absent
 * (zero).
 */
export function foldBias(bias: Float64Array | undefined, rows: number, f: BatchNormFactors): Float32Array {
  const channels = f.scale.length;
  const out = new Float32Array(rows * channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++) {
      const b = bias ? bias[r * channels + c] : 0;
      out[r * channels + c] = (b - f.mean[c]) * f.scale[c] + f.beta[c];
    }
  }
  return out;
}
