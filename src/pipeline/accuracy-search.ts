/**
 * How many of the most sensitive layers must go back to float for the accuracy drop to stay within a
 * bound: the drop shrinks (nearly) monotonically as layers go back most sensitive first, so the
 * smallest count is found by doubling from 0 until the bound holds, then bisecting — about
 * 2·log2(layers) evaluations of the whole model instead of one per count.
 */
import { points } from '../analysis/sensitivity.js';

export interface SearchStep {
  /** Layers (ranking units) left float. */
  keptFloat: number;
  accuracy: number;
  /** Points lost against the float model. */
  drop: number;
}

export interface SearchResult {
  /** The smallest count found within the bound; `units` when even all float is needed. */
  keptFloat: number;
  /** Every count evaluated, in the order tried. */
  steps: SearchStep[];
}

/** `accuracyAt(k)`: accuracy with the k most sensitive units float. */
export async function searchKeptFloat(
  units: number,
  accuracyAt: (k: number) => Promise<number>,
  referenceAccuracy: number,
  maxDrop: number,
): Promise<SearchResult> {
  const steps: SearchStep[] = [];
  const within = async (k: number) => {
    const accuracy = await accuracyAt(k);
    const drop = points(referenceAccuracy - accuracy);
    steps.push({ keptFloat: k, accuracy, drop });
    return drop <= maxDrop;
  };
  if (await within(0)) return { keptFloat: 0, steps };
  let failing = 0;
  let passing = units;
  for (let k = 1; k < units; k *= 2) {
    if (await within(k)) {
      passing = k;
      break;
    }
    failing = k;
  }
  while (passing - failing > 1) {
    const mid = (failing + passing) >> 1;
    if (await within(mid)) passing = mid;
    else failing = mid;
  }
  return { keptFloat: passing, steps };
}
