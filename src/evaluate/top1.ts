/**
 * Top-1 class of each sample from a classifier output.
 *
 * [N, C] scores (logits or probabilities, C ≥ 2): the index of the largest score; ties go to the
 * lowest index (as numpy's argmax) and NaN never wins. [N, 1] or [N]: one score per sample, read as
 * the probability of class 1 (a Sigmoid output), so the class is 1 when the score is above 0.5 and 0
 * otherwise. A binary model that outputs a raw logit would need a threshold of 0 instead; evaluate it
 * with its Sigmoid in the graph.
 */
import { QuantkitError } from '../errors.js';

export interface ClassifierLayout {
  rows: number;
  /** 1 for a single-score binary output. */
  classes: number;
}

export const BINARY_THRESHOLD = 0.5;

export function classifierLayout(shape: readonly number[], what: string): ClassifierLayout {
  if (shape.length === 1) return { rows: shape[0], classes: 1 };
  if (shape.length === 2 && shape[1] >= 1) return { rows: shape[0], classes: shape[1] };
  throw new QuantkitError(
    `${what} has shape [${shape.join(', ')}]; top-1 needs [samples, classes] scores or one score per sample` +
      ' (choose another output with --output)',
  );
}

export function top1(
  scores: Float32Array,
  { rows, classes }: ClassifierLayout,
  out = new Int32Array(rows),
): Int32Array {
  if (classes === 1) {
    for (let i = 0; i < rows; i++) out[i] = scores[i] > BINARY_THRESHOLD ? 1 : 0;
    return out;
  }
  for (let i = 0, row = 0; i < rows; i++, row += classes) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      const s = scores[row + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** How many positions hold the same class in `a` and `b` (equal lengths). */
export function countMatches(a: Int32Array, b: Int32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) n++;
  return n;
}
