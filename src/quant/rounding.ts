/**
 * Rounding of scaled values to integer codes: round-half-to-even (what ONNX QuantizeLinear does) and
 * seeded stochastic rounding (unbiased: rounds up with probability equal to the fractional part).
 */

import type { Rng } from '../tensor/random.js';

export type Rounding = { mode: 'nearest-even' } | { mode: 'stochastic'; rng: Rng };

export const NEAREST_EVEN: Rounding = { mode: 'nearest-even' };

/** Nearest integer, ties to the even one: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0. */
export function roundHalfEven(x: number): number {
  // Math.round sends ties up (towards +Inf); step back down when that landed on an odd integer.
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** floor(x) with probability ceil(x) - x, else ceil(x); integers are returned unchanged. */
export function roundStochastic(x: number, rng: Rng): number {
  const floor = Math.floor(x);
  return rng.nextFloat() < x - floor ? floor + 1 : floor;
}
