/**
 * A calibration Histogram (2048 fine bins on a power-of-two grid) regrouped into a few bins over a span
 * that also covers the quantization range, so a chart shows the values and the clipping limits together.
 */
import type { Histogram } from '../calibrate/histogram.js';

export interface HistogramSummary {
  counts: number[];
  min: number;
  max: number;
}

export function summarizeHistogram(
  h: Histogram,
  clip: readonly [number, number],
  bins = 64,
): HistogramSummary | undefined {
  const counts = h.counts;
  const lo = counts.findIndex((c) => c > 0);
  if (lo < 0) return undefined;
  let hi = counts.length - 1;
  while (counts[hi] === 0) hi--;
  const w = h.width;
  const min = Math.min((h.first + lo) * w, clip[0]);
  const max = Math.max((h.first + hi + 1) * w, clip[1]);
  const out = new Array<number>(bins).fill(0);
  const width = (max - min) / bins || 1;
  for (let i = lo; i <= hi; i++) {
    if (counts[i] === 0) continue;
    const centre = (h.first + i + 0.5) * w;
    out[Math.min(bins - 1, Math.max(0, Math.floor((centre - min) / width)))] += counts[i];
  }
  return { counts: out, min, max };
}
