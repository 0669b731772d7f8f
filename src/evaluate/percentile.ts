/** Summaries of measured durations. Medians, because a timing's outliers (GC, a noisy neighbour) are one-sided. */

/** The q-th percentile (0–100) of sorted values, interpolating linearly between ranks as numpy does. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface DurationSummary {
  runs: number;
  median: number;
  p90: number;
}

export function summarizeDurations(durations: ArrayLike<number>): DurationSummary {
  const sorted = Float64Array.from(durations).sort();
  return { runs: sorted.length, median: percentile(sorted, 50), p90: percentile(sorted, 90) };
}

/**
 * The median over runs of a[i] ÷ b[i], for runs timed in pairs (a[i] right next to b[i]). A pair
 * shares its moment's machine state, so one model's bad moments are not set against the other's
 * good ones: the median of pair ratios is steadier than the ratio of two medians.
 */
export function medianRatio(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new RangeError(`${a.length} runs paired with ${b.length}`);
  const ratios = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) ratios[i] = a[i] / b[i];
  return percentile(ratios.sort(), 50);
}
