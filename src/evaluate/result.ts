/**
 * What `evaluate` returns, with stable field names: scripts read them from `quantkit eval --json`.
 * Fractions (accuracy, agreement, accuracyDelta) are in [0, 1]; sizes in bytes; times in ms.
 *
 * task 'classify' (the default): accuracy is top-1 against the labels and agreement the fraction of
 * samples whose top-1 class equals the reference's. task 'lm' (a causal language model, see
 * perplexity.ts): every window of token ids scores T−1 next-token predictions; `tokens` counts them,
 * `nll` is their mean negative log-likelihood in nats, `perplexity` = exp(nll), accuracy is the
 * fraction whose top-1 token is the actual next token (no labels needed) and agreement the fraction
 * whose top-1 token equals the reference's. SQNR, cosine and max-abs error compare whole outputs
 * (logits included) in both tasks.
 */
import type { CpuFeatures } from '../runtime/latency.js';
import type { Metrics } from './metrics.js';

export interface LatencyFigures {
  /** Samples per timed run. */
  batch: number;
  runs: number;
  /** ONNX Runtime intra-op threads. */
  threads: number;
  /** Wall-clock time per run: the latency a user sees, waiting for a busy machine included. */
  median: number;
  p90: number;
  /** Process CPU time per run; with one thread, the latency without the waiting. */
  cpuMedian: number;
}

export interface ModelFigures {
  /** Size of the model serialized as one ONNX file, weights included. */
  bytes: number;
  accuracy?: number;
  /** task 'lm': exp(nll). */
  perplexity?: number;
  /** task 'lm': mean next-token negative log-likelihood, nats per token. */
  nll?: number;
  latencyMs?: LatencyFigures;
}

export interface Comparison {
  /** bytes ÷ reference bytes: 0.25 is four times smaller. */
  sizeRatio: number;
  /**
   * How many times faster than the reference: 2 is twice as fast, below 1 slower. The median over
   * rounds of (reference time ÷ model time), the two runs of a round timed one after the other.
   */
  speedup?: number;
  /**
   * Which time `speedup` compares: 'cpu' with one intra-op thread (steady on a machine that other
   * processes keep busy), 'wall' with more threads (CPU time would add up the threads' work).
   */
  speedupFrom?: 'cpu' | 'wall';
  /** accuracy − reference accuracy (−0.003 is 0.3 points lost). */
  accuracyDelta?: number;
  /** task 'lm': perplexity ÷ reference perplexity (1.02 is 2% worse). */
  perplexityRatio?: number;
  /** task 'lm': perplexity − reference perplexity. */
  perplexityDelta?: number;
}

export type EvaluationTask = 'classify' | 'lm';

export interface Evaluation extends ModelFigures, Omit<Metrics, 'referenceAccuracy'> {
  task: EvaluationTask;
  /** The output top-1 classes (task 'lm': the logits [windows, tokens, vocabulary]) were read from. */
  output: string;
  /** task 'lm': the input whose token ids are the targets. */
  input?: string;
  /** task 'lm': next-token predictions scored, windows × (tokens per window − 1). */
  tokens?: number;
  /** The machine latency was measured on. */
  cpu?: CpuFeatures;
  reference?: ModelFigures;
  comparison?: Comparison;
}

export function compare(
  model: ModelFigures,
  reference: ModelFigures,
  timed?: Pick<Comparison, 'speedup' | 'speedupFrom'>,
): Comparison {
  const c: Comparison = { sizeRatio: model.bytes / reference.bytes, ...timed };
  if (model.accuracy !== undefined && reference.accuracy !== undefined) {
    c.accuracyDelta = model.accuracy - reference.accuracy;
  }
  if (model.perplexity !== undefined && reference.perplexity !== undefined) {
    c.perplexityRatio = model.perplexity / reference.perplexity;
    c.perplexityDelta = model.perplexity - reference.perplexity;
  }
  return c;
}
