/** Figures as the analysis tables and reports print them (no locale; non-finite values spelled out). */

export function decibels(x: number): string {
  if (x === Infinity) return 'exact';
  return Number.isNaN(x) ? 'NaN' : `${x.toFixed(1)} dB`;
}

/** A table cell: the number rounded, or a word for a non-finite one. */
export function fixed(x: number, digits: number): string {
  if (x === Infinity) return 'exact';
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** A fraction in [0, 1] as a percentage. */
export function percent(x: number, digits = 2): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** JSON without Infinity or NaN (which JSON cannot hold): both become null. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  );
}
