/** Axis ticks at round numbers (1, 2 or 5 × 10^k), and the domain they span, covering [lo, hi]. */
export function niceTicks(
  lo: number,
  hi: number,
  count: number,
): { lo: number; hi: number; ticks: number[] } {
  if (!(hi > lo)) return niceTicks(lo, lo + 1, count);
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw * (1 - 1e-9))!;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  // toPrecision strips the binary noise of i × step (0.30000000000000004 → 0.3).
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks };
}

/** Coordinates rounded to 0.1 px: SVG output stays small and identical across runs. */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}
