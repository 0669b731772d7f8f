/**
 * Half-quadratic quantization (HQQ, Badri & Shaji 2023): data-free, per block. It minimises the
 * lp-norm (p < 1) of the weight's reconstruction error ‖W − (Q − z)·s‖_p, which ignores a few large
 * errors (outliers) instead of letting them pull the fit, by alternating, as in half-quadratic
 * splitting:
 *
 *   Q   = clamp(round(W / s + z))                        codes for the current (s, z)
 *   W_e = shrink_p(W − (Q − z)·s, β)                      the sparse outlier part of the error
 *   s,z = least squares of (W − W_e) ≈ (Q − z)·s           closed form, given Q and W_e
 *   β  ← κ·β
 *
 * starting from the asymmetric RTN parameters and keeping, per block, the parameters with the lowest
 * mean absolute error (early stop when an iteration does not improve it). ONNX Runtime's HQQ settings
 * are the defaults: p = 0.7, β = 10, κ = 1.01, 20 iterations.
 *
 * Two departures from ONNX Runtime's HQQ, which fits a float zero point only (the scale fixed at its
 * min–max value) and stores it in the activation's type. ONNX Runtime 1.30 accepts float zero points
 * for 2- and 4-bit MatMulNBits only, and runs them 5.3× slower at batch 1 (2.7× at 64; K = N = 2048,
 * measured) because it then dequantizes the whole weight on every call instead of using its packed
 * kernels; blocked DequantizeLinear cannot hold them at all. Here the zero point stays an integer
 * (packed uint8: every bit width, both formats, the fast kernels), and to keep what a fractional zero
 * point would buy, the scale is fitted with it: (s, z) jointly, then z rounded and s refitted. Rounding
 * ONNX Runtime's float zero point instead undoes the optimisation (it moves less than half a step, so
 * the result equals asymmetric RTN). On the bundled tiny LM's 25 MatMul weights at 4 bits, relative
 * weight error, blocks of 32 / 128: asymmetric RTN 0.0808 / 0.0977, ONNX Runtime's float-zero HQQ
 * 0.0759 / 0.0946, this 0.0782 / 0.0941.
 */
import { quantizeBlocks, rtnBlockParams } from './rtn.js';
import type { BlockQuantized, BlockShape } from './blocked-weight.js';

export interface HqqOptions {
  /** p of the lp-norm minimised; below 1 it discounts outliers. Default 0.7. */
  lpNorm?: number;
  /** Initial β of the half-quadratic splitting. Default 10. */
  beta?: number;
  /** Growth of β per iteration. Default 1.01. */
  kappa?: number;
  /** Most iterations per block. Default 20. */
  iterations?: number;
}

const HQQ_DEFAULTS: Required<HqqOptions> = { lpNorm: 0.7, beta: 10, kappa: 1.01, iterations: 20 };

/** HQQ of a [K, N] float32 weight (row-major, as a MatMul's B) in blocks along K; always asymmetric. */
export function hqq(weight: Float32Array, shape: BlockShape, options: HqqOptions = {}): BlockQuantized {
  const opts = { ...HQQ_DEFAULTS, ...options };
  const qmax = 2 ** shape.bits - 1;
  return quantizeBlocks(weight, shape, (columns, from, to, q, p) => {
    rtnBlockParams(columns, from, to, 'asymmetric', shape.bits, q, p);
    optimizeBlock(columns, from, to, qmax, opts, q, p);
  });
}

/** Refines the block's scale and zero point at index `p` in place. */
function optimizeBlock(
  w: Float32Array,
  from: number,
  to: number,
  qmax: number,
  opts: Required<HqqOptions>,
  q: BlockQuantized,
  p: number,
): void {
  const count = to - from;
  const exponent = opts.lpNorm - 1;
  let scale = q.scales[p];
  let zero = q.zeroPoints[p];
  let beta = opts.beta;
  let bestError = Infinity;
  let bestScale = scale;
  let bestZero = zero;
  for (let it = 0; it < opts.iterations; it++) {
    const inverse = 1 / scale;
    // shrink_p(e) = sign(e)·max(0, |e| − |e|^(p−1)/β) is 0 exactly when |e| ≤ β^(−1/(2−p)); testing
    // that first skips the power for all but the outliers.
    const threshold = beta ** (-1 / (2 - opts.lpNorm));
    const invBeta = 1 / beta;
    let absError = 0;
    let sq = 0;
    let sqq = 0;
    let st = 0;
    let stq = 0;
    for (let i = from; i < to; i++) {
      const v = w[i];
      let code = Math.round(v * inverse + zero);
      if (code < 0) code = 0;
      else if (code > qmax) code = qmax;
      const e = v - (code - zero) * scale;
      const a = Math.abs(e);
      absError += a;
      let target = v;
      if (a > threshold) {
        const shrunk = a - invBeta * Math.pow(a + 1e-8, exponent);
        if (shrunk > 0) target -= e > 0 ? shrunk : -shrunk;
      }
      sq += code;
      sqq += code * code;
      st += target;
      stq += target * code;
    }
    absError /= count;
    if (!(absError < bestError)) break;
    bestError = absError;
    bestScale = scale;
    bestZero = zero;
    // Least squares target ≈ a·code + d, i.e. s = a and z = −d / a; then z rounded and s refitted.
    const det = count * sqq - sq * sq;
    if (!(det > 0)) break;
    const slope = (count * stq - sq * st) / det;
    if (!(slope > 0)) break;
    const intercept = (st - slope * sq) / count;
    zero = Math.min(Math.max(Math.round(-intercept / slope), 0), qmax);
    // Σ t·(code − z) / Σ (code − z)², expanded over the sums above.
    const num = stq - zero * st;
    const den = sqq - 2 * zero * sq + count * zero * zero;
    const refit = num / den;
    if (!(refit > 0 && Number.isFinite(refit))) break;
    scale = refit;
    beta *= opts.kappa;
  }
  q.scales[p] = Math.fround(bestScale);
  q.zeroPoints[p] = bestZero;
}
