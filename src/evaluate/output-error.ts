/**
 * How far an output is from the reference model's, accumulated over batches in constant memory.
 * Sums run in float64 across every element of every batch, so SQNR and cosine describe the whole
 * data set (not an average of per-batch figures, which would weight small last batches like full ones).
 */

export interface OutputError {
  /**
   * 10·log10(Σx² / Σ(x−y)²), x the reference; Infinity when every element is equal. An output
   * holding NaN or an infinity where the reference does not makes it NaN or −Infinity (cosine and
   * maxAbsError turn NaN or Infinity too): a broken output is reported, never averaged away.
   */
  sqnrDb: number;
  /** Σxy / √(Σx²·Σy²) over all elements as one vector; 1 when both are all zeros, 0 when only one is. */
  cosine: number;
  maxAbsError: number;
  /** Every element equal to the reference's: the reason SQNR is Infinity (JSON writes that as null). */
  outputsIdentical: boolean;
}

export class ErrorAccumulator {
  private signal = 0;
  private noise = 0;
  private dot = 0;
  private energy = 0;
  private maxAbs = 0;
  private elements = 0;

  /** Adds one batch: `reference` is x, `actual` y; equal lengths. */
  add(reference: Float32Array, actual: Float32Array): void {
    let signal = 0;
    let noise = 0;
    let dot = 0;
    let energy = 0;
    let maxAbs = this.maxAbs;
    for (let i = 0; i < reference.length; i++) {
      const x = reference[i];
      const y = actual[i];
      if (x === y || (x !== x && y !== y)) {
        // Equal values, the same infinity or NaN in both: no error. Only finite values carry signal.
        if (x - x === 0) {
          const s = x * x;
          signal += s;
          dot += s;
          energy += s;
        }
        continue;
      }
      const d = x - y;
      signal += x * x;
      noise += d * d;
      dot += x * y;
      energy += y * y;
      const a = Math.abs(d);
      // NaN sticks: a NaN output is an error to report, not a value to skip.
      if (a > maxAbs || a !== a) maxAbs = a;
    }
    this.signal += signal;
    this.noise += noise;
    this.dot += dot;
    this.energy += energy;
    this.maxAbs = maxAbs;
    this.elements += reference.length;
  }

  /** Pools another accumulator's sums into this one (e.g. every output into one figure). */
  merge(other: ErrorAccumulator): void {
    this.signal += other.signal;
    this.noise += other.noise;
    this.dot += other.dot;
    this.energy += other.energy;
    if (other.maxAbs > this.maxAbs || other.maxAbs !== other.maxAbs) this.maxAbs = other.maxAbs;
    this.elements += other.elements;
  }

  get count(): number {
    return this.elements;
  }

  result(): OutputError {
    const identical = this.noise === 0;
    const norms = Math.sqrt(this.signal * this.energy);
    return {
      sqnrDb: identical ? Infinity : 10 * Math.log10(this.signal / this.noise),
      cosine: norms > 0 ? this.dot / norms : norms === 0 ? (this.signal === this.energy ? 1 : 0) : NaN,
      maxAbsError: this.maxAbs,
      outputsIdentical: identical,
    };
  }
}
