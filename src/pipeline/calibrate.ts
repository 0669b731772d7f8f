/**
 * Static calibration, end to end: expose the planned activations as outputs, stream the calibration
 * set through ONNX Runtime, keep fixed-size statistics per activation, turn them into ranges with the
 * chosen estimator, and the ranges into scales and zero points.
 */
import { collectStats } from '../calibrate/collect.js';
import { collectSummaries } from '../calibrate/collect-summaries.js';
import { addReductions, TAILS_MIN_OPSET } from '../calibrate/reduce-graph.js';
import type { ClipRange, RangeTarget } from '../calibrate/estimator.js';
import { type EstimatorName, estimateRange, histogramFor } from '../calibrate/estimators.js';
import { TensorStats } from '../calibrate/stats.js';
import type { SampleSource } from '../data/sample-source.js';
import type { DtypeMap } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { exposeValues } from '../passes/expose-values.js';
import type { ProgressCallback } from '../progress.js';
import { qparamsFromRange, type ScaleZeroPoint } from '../quant/qparams.js';
import { type RuntimeOptions, Runner } from '../runtime/session.js';

/** Largest share of values beyond the percentile that the in-session tails keep exactly. */
const MAX_TAIL_FRACTION = 1e-3;

/**
 * MinMax, EMA and percentile need only ranges and tails, which ONNX Runtime computes in the session;
 * the histogram methods (and percentiles below 99.9, whose tails would be large) read every value.
 */
function summarizable(opts: CalibrateOptions, model: Model): boolean {
  if (opts.method === 'minmax' || opts.method === 'ema') return true;
  return (
    opts.method === 'percentile' &&
    1 - opts.percentile / 100 <= MAX_TAIL_FRACTION &&
    (model.opset('') ?? 0) >= TAILS_MIN_OPSET
  );
}

export interface CalibrateOptions {
  method: EstimatorName;
  target: RangeTarget;
  percentile: number;
  batchSize: number;
  runtime?: RuntimeOptions;
  onProgress?: ProgressCallback;
}

export interface CalibrationResult {
  params: Map<string, ScaleZeroPoint>;
  ranges: Map<string, ClipRange>;
  stats: Map<string, TensorStats>;
  samples: number;
  /** Activations that produced NaN or infinite values. */
  warnings: string[];
}

export async function calibrate(
  model: Model,
  names: readonly string[],
  dtypes: DtypeMap,
  source: SampleSource,
  opts: CalibrateOptions,
): Promise<CalibrationResult> {
  const exposed = exposeValues(model, names, dtypes);
  if (exposed.unreachable.length > 0) {
    throw new Error(`cannot observe activations ${exposed.unreachable.join(', ')} for calibration`);
  }
  const histogram = histogramFor(opts.method, opts.target);
  const stats = new Map(names.map((n) => [n, new TensorStats(n, { histogram })]));
  const total = source.sampleCount;
  const onBatch = (done: number) => opts.onProgress?.({ stage: 'calibrate', done, total });
  const summarized = summarizable(opts, model);
  const reductions = summarized
    ? addReductions(exposed.model, exposed.outputs, opts.method === 'percentile')
    : undefined;
  const runner = await Runner.create(exposed.model, opts.runtime);
  let samples: number;
  try {
    onBatch(0);
    const batches = source.batches(opts.batchSize);
    samples = reductions
      ? await collectSummaries(runner, batches, {
          reductions,
          stats,
          tails:
            opts.method === 'percentile'
              ? { fraction: 1 - opts.percentile / 100, samples: total }
              : undefined,
          onBatch,
        })
      : await collectStats(runner, batches, { outputs: exposed.outputs, stats, onBatch });
  } finally {
    await runner.release();
  }
  const ranges = new Map<string, ClipRange>();
  const params = new Map<string, ScaleZeroPoint>();
  const warnings: string[] = [];
  const estimatorOptions = opts.method === 'percentile' ? { percentile: opts.percentile } : undefined;
  for (const [name, s] of stats) {
    const { nanCount, infCount } = s.moments;
    if (nanCount + infCount > 0) {
      warnings.push(
        `activation '${name}' produced ${nanCount} NaN and ${infCount} infinite values during calibration`,
      );
    }
    const range = estimateRange(opts.method, s, opts.target, estimatorOptions as never);
    ranges.set(name, range);
    params.set(name, qparamsFromRange(range.min, range.max, opts.target));
  }
  return { params, ranges, stats, samples, warnings };
}
