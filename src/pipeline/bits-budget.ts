/**
 * 8- and 4-bit weights mixed under an average-bits budget (DOMAIN.md §9): each layer's cost of going
 * to 4 bits is the output error it adds — measured with that layer alone quantized, at 4 bits against
 * 8 — divided by the weight bits it saves; the cheapest layers go to 4 bits until the weight-count
 * weighted average reaches the budget.
 */
import type { CandidateMetrics } from '../analysis/reference-run.js';
import type { Sensitivity } from '../analysis/sensitivity.js';

export interface FourBitCost {
  name: string;
  weights: number;
  /** Output error added by 4-bit weights (KL divergence, or relative MSE of the output). */
  increase: number;
  /** `increase` per weight bit saved. */
  perBit: number;
  fourBit: boolean;
}

/** A scalar output error: KL divergence for classifiers, Σ(x−y)²/Σx² otherwise. */
export function outputError(m: CandidateMetrics): number {
  return m.klDivergence ?? 10 ** (-m.sqnrDb / 10);
}

/** `candidates`: quantized units with their 8-bit sensitivity; `at4`: the same units at 4 bits. */
export function chooseFourBit(
  candidates: readonly Sensitivity[],
  at4: readonly CandidateMetrics[],
  budget: number,
): { costs: FourBitCost[]; averageBits: number } {
  const costs = candidates.map((s, i): FourBitCost => {
    const increase = Math.max(0, outputError(at4[i]) - outputError(s.metrics));
    return { name: s.name, weights: s.weights, increase, perBit: increase / (4 * s.weights), fourBit: false };
  });
  const total = costs.reduce((n, c) => n + c.weights, 0);
  let bits = 8 * total;
  // Cheapest per bit first; among equals, the larger layer saves more.
  const order = [...costs].sort((a, b) => a.perBit - b.perBit || b.weights - a.weights);
  for (const c of order) {
    if (bits <= budget * total) break;
    c.fourBit = true;
    bits -= 4 * c.weights;
  }
  return { costs, averageBits: total > 0 ? bits / total : 8 };
}
