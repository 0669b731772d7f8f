/**
 * Ternary weights (TWN, DOMAIN.md §10): codes {−1, 0, +1} times a per-channel scale. As FakeQuant with
 * the code range [−1, 1] the rounding threshold is s/2 and the magnitude s; starting s at TWN's α (the
 * mean |w| above Δ = 0.7·mean|w|) puts the threshold near TWN's Δ, since α ≈ 1.4–1.6·mean|w| for
 * bell-shaped weights. The export stores the codes as int4 with the same range, which the Q/DQ writer
 * and ONNX Runtime handle like any 4-bit weight.
 */
import type { Tensor } from '../../onnx/tensor.js';
import { paramLayout } from '../../quant/granularity.js';
import type { QuantParams } from '../../quant/qparams.js';
import type { QuantRange } from '../../quant/types.js';

export const TERNARY_RANGE: QuantRange = { qmin: -1, qmax: 1 };

export function ternaryParams(weight: Tensor, axis: number | undefined): QuantParams {
  const granularity = axis === undefined ? ({ kind: 'tensor' } as const) : ({ kind: 'axis', axis } as const);
  const layout = paramLayout(weight.dims, granularity);
  const w = weight.toFloat32();
  const groups = layout.paramCount;
  const sumAbs = new Float64Array(groups);
  const count = new Float64Array(groups);
  const group = (idx: number) => (axis === undefined ? 0 : Math.floor(idx / layout.inner) % layout.dim);
  for (let i = 0; i < w.length; i++) {
    sumAbs[group(i)] += Math.abs(w[i]);
    count[group(i)]++;
  }
  const delta = Float64Array.from(sumAbs, (s, g) => (0.7 * s) / count[g]);
  const above = new Float64Array(groups);
  const aboveCount = new Float64Array(groups);
  for (let i = 0; i < w.length; i++) {
    const g = group(i);
    if (Math.abs(w[i]) > delta[g]) {
      above[g] += Math.abs(w[i]);
      aboveCount[g]++;
    }
  }
  const scale = Float32Array.from(above, (s, g) => (aboveCount[g] > 0 ? s / aboveCount[g] : 1));
  return {
    type: 'int4',
    granularity,
    shape: layout.paramShape,
    scale,
    zeroPoint: new Int32Array(groups),
    codeRange: TERNARY_RANGE,
  };
}
