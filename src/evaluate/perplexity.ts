/**
 * Perplexity of a causal language model, streamed over batches of token windows in constant memory.
 *
 * Each window is T token ids and the model's logits for it, [T, V]: position t predicts token t+1, so a
 * window gives T−1 predictions (the last position predicts past the window and is not scored). Every
 * prediction of every window weighs the same: NLL = mean over all of them of
 * −log softmax(logits[t])[ids[t+1]], computed as log Σ_v exp(x_v − max) − (x_target − max) in float64
 * (log-sum-exp with the maximum subtracted); perplexity = exp(NLL). With a reference model, the same
 * predictions also give the next-token top-1 agreement between the two.
 *
 * Pure (no runtime): `evaluate` and the browser feed it the outputs of their own sessions. A NaN logit
 * makes the figures NaN and a −Infinity at a target makes them Infinity: a broken model is reported,
 * never averaged away.
 */
import { QuantkitError } from '../errors.js';

/** Token ids as a data file or a model input holds them. */
export type TokenIds = BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array;

export interface LmLayout {
  /** Windows in the batch. */
  rows: number;
  /** Tokens per window, T. */
  steps: number;
  /** Logits per position, V. */
  vocab: number;
}

/** Checks that logits [N, T, V] belong to ids [N, T]; `what` names the logits in messages. */
export function lmLayout(
  logitsShape: readonly number[],
  idsShape: readonly number[],
  what: string,
): LmLayout {
  if (idsShape.length !== 2) {
    throw new QuantkitError(
      `token ids have shape [${idsShape.join(', ')}]; perplexity needs [windows, tokens]`,
    );
  }
  const [rows, steps] = idsShape;
  if (logitsShape.length !== 3 || logitsShape[0] !== rows || logitsShape[1] !== steps || logitsShape[2] < 1) {
    throw new QuantkitError(
      `${what} has shape [${logitsShape.join(', ')}]; perplexity needs logits [${rows}, ${steps}, vocabulary] ` +
        `for token ids [${rows}, ${steps}] (choose the logits output with --output)`,
    );
  }
  return { rows, steps, vocab: logitsShape[2] };
}

/** What one model's predictions add up to. */
export interface LmFigures {
  /** Predictions scored: windows × (tokens per window − 1). */
  tokens: number;
  /** Mean negative log-likelihood of the actual next token, in nats. */
  nll: number;
  /** exp(nll). */
  perplexity: number;
  /** Fraction of predictions whose top-1 token is the actual next token. */
  accuracy: number;
}

export interface LmMetrics extends LmFigures {
  reference?: LmFigures;
  /** Fraction of predictions where the model's and the reference's top-1 tokens are equal. */
  agreement?: number;
}

/** Sums of one model's predictions over batches. */
class NllSum {
  nll = 0;
  correct = 0;

  /** Adds the batch; writes each scored position's top-1 token into `top` (length rows·(steps−1)). */
  add(logits: Float32Array, ids: TokenIds, layout: LmLayout, top: Int32Array): void {
    const { rows, steps, vocab } = layout;
    let nll = 0;
    let correct = 0;
    for (let r = 0, k = 0; r < rows; r++) {
      for (let t = 0; t < steps - 1; t++, k++) {
        const base = (r * steps + t) * vocab;
        const target = Number(ids[r * steps + t + 1]);
        // Top-1: ties go to the lowest index and NaN never wins, as in top1.ts.
        let max = -Infinity;
        let best = 0;
        let nan = false;
        for (let v = 0; v < vocab; v++) {
          const x = logits[base + v];
          if (x > max) {
            max = x;
            best = v;
          } else if (x !== x) nan = true;
        }
        top[k] = best;
        if (best === target) correct++;
        if (nan || max === -Infinity) {
          nll += NaN;
          continue;
        }
        if (max === Infinity) {
          // exp(x − max) is NaN for the infinite logit itself: the limit is all mass on the infinities.
          nll +=
            logits[base + target] === Infinity ? Math.log(countInfinities(logits, base, vocab)) : Infinity;
          continue;
        }
        let sum = 0;
        for (let v = 0; v < vocab; v++) sum += Math.exp(logits[base + v] - max);
        // log Σ exp(x − max) − (x_target − max): exact differences, no large max added and taken away.
        nll += Math.log(sum) - (logits[base + target] - max);
      }
    }
    this.nll += nll;
    this.correct += correct;
  }

  figures(tokens: number): LmFigures {
    const nll = this.nll / tokens;
    return { tokens, nll, perplexity: Math.exp(nll), accuracy: this.correct / tokens };
  }
}

function countInfinities(logits: Float32Array, base: number, vocab: number): number {
  let n = 0;
  for (let v = 0; v < vocab; v++) if (logits[base + v] === Infinity) n++;
  return n;
}

export interface PerplexityOptions {
  /** Whether batches come with a reference model's logits (its perplexity, agreement). */
  reference: boolean;
}

export class PerplexityAccumulator {
  private readonly model = new NllSum();
  private readonly referenceSum = new NllSum();
  private tokens = 0;
  private windows = 0;
  private agreeing = 0;
  private top = new Int32Array(0);
  private referenceTop = new Int32Array(0);

  constructor(private readonly options: PerplexityOptions) {}

  /**
   * One batch: the token ids [N, T] and the model's logits [N, T, V] (as `layout` describes them),
   * and the reference's logits of the same shape when comparing.
   */
  add(ids: TokenIds, logits: Float32Array, layout: LmLayout, referenceLogits?: Float32Array): void {
    const { rows, steps, vocab } = layout;
    if (this.options.reference && !referenceLogits) throw new Error('a reference logits batch is missing');
    if (ids.length !== rows * steps)
      throw new Error(`token ids: ${ids.length} values for [${rows}, ${steps}]`);
    for (const [name, arr] of [
      ['logits', logits],
      ['reference logits', referenceLogits],
    ] as const) {
      if (arr && arr.length !== rows * steps * vocab) {
        throw new Error(`${name}: ${arr.length} values for [${rows}, ${steps}, ${vocab}]`);
      }
    }
    checkIds(ids, vocab);
    const predictions = rows * Math.max(steps - 1, 0);
    if (this.top.length < predictions) {
      this.top = new Int32Array(predictions);
      if (this.options.reference) this.referenceTop = new Int32Array(predictions);
    }
    this.model.add(logits, ids, layout, this.top);
    if (referenceLogits) {
      this.referenceSum.add(referenceLogits, ids, layout, this.referenceTop);
      for (let k = 0; k < predictions; k++) if (this.top[k] === this.referenceTop[k]) this.agreeing++;
    }
    this.tokens += predictions;
    this.windows += rows;
  }

  result(): LmMetrics {
    if (this.windows === 0) throw new QuantkitError('the data has no token windows');
    if (this.tokens === 0) {
      throw new QuantkitError(
        'the token windows hold one token each; perplexity needs at least two per window',
      );
    }
    const m: LmMetrics = this.model.figures(this.tokens);
    if (this.options.reference) {
      m.reference = this.referenceSum.figures(this.tokens);
      m.agreement = this.agreeing / this.tokens;
    }
    return m;
  }
}

function checkIds(ids: TokenIds, vocab: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = Number(ids[i]);
    if (id < 0 || id >= vocab) {
      throw new QuantkitError(
        `token id ${id} is outside the model's vocabulary of ${vocab} (the logits' last dimension)`,
      );
    }
  }
}
