/**
 * KL(P‖Q) between the class distributions of a reference and a candidate classifier: the mean over
 * samples of Σ p·(log p − log q). Logits go through a softmax (computed stably, in float64); outputs
 * that already are probabilities (a Softmax ends the model) are used as they are, a zero probability
 * counting as 1e-12. It is 0 for identical outputs and grows with any change of the predicted
 * distribution, so unlike top-1 agreement it ranks small differences too.
 */
const FLOOR = 1e-12;

export class SoftmaxDivergence {
  private sum = 0;
  private rows = 0;
  private readonly p: Float64Array;
  private readonly q: Float64Array;

  constructor(
    readonly classes: number,
    /** true: the outputs are probabilities already. */
    private readonly probabilities: boolean,
  ) {
    this.p = new Float64Array(classes);
    this.q = new Float64Array(classes);
  }

  /** Adds rows of [rows, classes] outputs: the reference's and the candidate's. */
  add(reference: Float32Array, candidate: Float32Array): void {
    const c = this.classes;
    const rows = reference.length / c;
    for (let r = 0; r < rows; r++) {
      this.logDistribution(reference, r * c, this.p);
      this.logDistribution(candidate, r * c, this.q);
      let kl = 0;
      for (let i = 0; i < c; i++) kl += Math.exp(this.p[i]) * (this.p[i] - this.q[i]);
      this.sum += kl;
    }
    this.rows += rows;
  }

  /** Mean KL in nats; NaN before any row. */
  result(): number {
    return this.sum / this.rows;
  }

  private logDistribution(x: Float32Array, offset: number, out: Float64Array): void {
    const c = this.classes;
    if (this.probabilities) {
      for (let i = 0; i < c; i++) out[i] = Math.log(Math.max(x[offset + i], FLOOR));
      return;
    }
    let max = -Infinity;
    for (let i = 0; i < c; i++) max = Math.max(max, x[offset + i]);
    let total = 0;
    for (let i = 0; i < c; i++) total += Math.exp(x[offset + i] - max);
    const log = max + Math.log(total);
    for (let i = 0; i < c; i++) out[i] = x[offset + i] - log;
  }
}
