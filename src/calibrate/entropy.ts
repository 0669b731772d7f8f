/**
 * Entropy calibration, TensorRT's KL-divergence method (DOMAIN.md §3), on the histogram of |x|.
 *
 * For each candidate threshold T = i bin widths: P is the first i bins with everything beyond folded
 * into bin i − 1; Q merges those i bins (without the folded tail) into as many groups as the target has
 * levels on [0, T] — groups as equal as whole bins allow, bin j in group floor(j · levels / i) — then
 * spreads each group's count evenly over its bins where P is non-zero. T minimises KL(P || Q); ties go
 * to the larger T. An empty Q bin under a non-empty P bin gets the count 1e-4, as in ONNX Runtime's
 * smoothing. As in NVIDIA's pytorch-quantization, bin 0 counts as much as bin 1: exact zeros (half of a
 * ReLU output) quantize without error, and their spike would otherwise dominate the divergence and
 * pull T down to where groups are one bin wide.
 *
 * Levels: the codes [0, T] actually receives, round(T / step) + 1 with the step qparamsFromRange will
 * use. Symmetric 8-bit targets give TensorRT's 128. A non-negative tensor on an asymmetric target gets
 * all 256 (NVIDIA's unsigned case), because the range [0, T] then spans every code; using 128 there
 * would model twice the real rounding noise and clip too much. Signed data on an asymmetric target
 * gets what [max(min, −T), T] leaves for the positive side. Thresholds start where the bins reach the
 * level count; when the histogram has fewer bins than levels (16-bit), quantization is finer than the
 * histogram and the observed range is returned.
 *
 * Thresholds that would fold more than half of the values into the last bin are skipped: the method
 * compares shapes of distributions that start at 0, and for data far from 0 (say N(100, 1)) a threshold
 * just above min |x| turns P into a single spike that Q represents perfectly — a range clipping nearly
 * everything. For data around 0 the median of |x| lies far below every threshold KL would pick.
 *
 * Each candidate costs O(levels), not O(bins): group sums, non-zero counts and Σ c·log c come from
 * prefix sums, and Q is constant over a group.
 */

import { magnitudeBins } from './bins.js';
import { type ClipRange, type RangeTarget, observedRange, thresholdRange } from './estimator.js';
import { thresholdStepper } from './grid.js';
import type { TensorStats } from './stats.js';

const EMPTY_Q_COUNT = 1e-4;

export function entropyRange(stats: TensorStats, target: RangeTarget): ClipRange {
  const observed = observedRange(stats);
  if (observed.min === observed.max) return observed;
  const { counts, width, hi } = magnitudeBins(stats, 'entropy');
  const m = counts.length;
  const cum = new Float64Array(m + 1);
  const nonZero = new Float64Array(m + 1);
  const cLogC = new Float64Array(m + 1);
  for (let j = 0; j < m; j++) {
    const c = j === 0 && m > 1 ? counts[1] : counts[j];
    cum[j + 1] = cum[j] + c;
    nonZero[j + 1] = nonZero[j] + (c > 0 ? 1 : 0);
    cLogC[j + 1] = cLogC[j] + (c > 0 ? c * Math.log(c) : 0);
  }
  const total = cum[m];
  const stepAt = thresholdStepper(target, stats.moments);
  let best = -1;
  let bestKl = Infinity;
  for (let i = 1; i <= m; i++) {
    const threshold = i < m ? i * width : hi;
    const levels = Math.round(threshold / stepAt(threshold)) + 1;
    const tail = total - cum[i];
    if (i < levels || tail > total / 2) continue;
    const lastCount = cum[i] - cum[i - 1];
    const last = lastCount + tail;
    const pLogP = cLogC[i - 1] + (last > 0 ? last * Math.log(last) : 0);
    let cross = 0;
    let qTotal = 0;
    let start = 0;
    for (let g = 0; g < levels; g++) {
      // First bin of group g + 1: ceil((g + 1) · i / levels), in exact integer arithmetic.
      const end = Math.floor(((g + 1) * i + levels - 1) / levels);
      const qSum = cum[end] - cum[start];
      let pSum = qSum;
      let support = nonZero[end] - nonZero[start];
      if (g === levels - 1) {
        pSum += tail;
        if (lastCount === 0 && tail > 0) support++;
      }
      start = end;
      if (support === 0) continue;
      if (qSum > 0) {
        qTotal += qSum;
        cross += pSum * Math.log(qSum / support);
      } else {
        qTotal += EMPTY_Q_COUNT * support;
        cross += pSum * Math.log(EMPTY_Q_COUNT);
      }
    }
    // KL(P/ΣP || Q/ΣQ) = Σ p log p / ΣP − log ΣP − Σ p log q / ΣP + log ΣQ, with ΣP = total.
    const kl = pLogP / total - Math.log(total) - cross / total + Math.log(qTotal);
    if (kl <= bestKl) {
      bestKl = kl;
      best = threshold;
    }
  }
  return best < 0 ? observed : thresholdRange(stats.moments, best);
}
