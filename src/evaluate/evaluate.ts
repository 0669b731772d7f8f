/**
 * `evaluate`: a model's accuracy (or, for a language model, perplexity), agreement and output error
 * against a reference, size and latency, from batches streamed through ONNX Runtime. This file is the
 * Node side (it creates onnxruntime-node sessions and times them); the metric math it folds outputs
 * into is pure and shared with the browser.
 */
import { QuantkitError } from '../errors.js';
import { encodeModel } from '../onnx/encode.js';
import type { Model } from '../onnx/model.js';
import { tensorTypeOf } from '../onnx/value-info.js';
import type { ProgressCallback } from '../progress.js';
import { cpuFeatures, type LatencyOptions, measureLatency, type RunTimes } from '../runtime/latency.js';
import { Runner, type RuntimeOptions } from '../runtime/session.js';
import type { NdArray } from '../tensor/ndarray.js';
import { asFloat32 } from './as-float32.js';
import { completeLmBatch, type LmInputs, lmInputs, tokenIds } from './lm-inputs.js';
import { MetricsAccumulator } from './metrics.js';
import { medianRatio, summarizeDurations } from './percentile.js';
import { lmLayout, type LmMetrics, PerplexityAccumulator } from './perplexity.js';
import {
  type Comparison,
  compare,
  type Evaluation,
  type EvaluationTask,
  type LatencyFigures,
  type ModelFigures,
} from './result.js';
import { type Batch, batchRows, FirstSamples } from './sample-batch.js';

export interface EvaluateOptions {
  /**
   * 'classify' (default): top-1 classes of a classifier output. 'lm': a causal language model whose
   * batches are windows of token ids [N, T] and whose output is logits [N, T, V]: perplexity, next-token
   * accuracy and agreement (src/evaluate/perplexity.ts); the ids are the targets, no labels.
   */
  task?: EvaluationTask;
  /**
   * task 'lm': the input holding the token ids; default `input_ids`, or the model's only integer input.
   * `attention_mask` and `position_ids` inputs the batches lack are filled in (ones, 0..T−1).
   */
  input?: string;
  /** One class per sample, in data order: gives `accuracy`. */
  labels?: Int32Array;
  /** The model to compare with (usually the FP32 original): gives agreement, SQNR, ratios. */
  reference?: Model;
  /** Samples per timed latency run; default: the size of the first batch. */
  batchSize?: number;
  /** The classifier output top-1 (task 'lm': the logits) is read from; default: the first numeric output. */
  output?: string;
  /** Session options for both models; default: 1 intra-op thread, thread-pool spinning off. */
  runtime?: RuntimeOptions;
  /** `false` skips latency; an object sets the number of runs. */
  latency?: boolean | Pick<LatencyOptions, 'runs' | 'warmup'>;
  /** Samples the batches will hold, when known (a progress bar's total); default: the labels' count. */
  total?: number;
  onProgress?: ProgressCallback;
}

export async function evaluate(
  model: Model,
  batches: AsyncIterable<Batch> | Iterable<Batch>,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const { reference, labels, onProgress } = options;
  const task = options.task ?? 'classify';
  const fetch = numericOutputs(model);
  const output = options.output ?? fetch[0];
  if (!output || !fetch.includes(output)) {
    throw new QuantkitError(
      `the model has no numeric output '${output ?? ''}' to read ${task === 'lm' ? 'logits' : 'classes'} from ` +
        `(outputs: ${fetch.join(', ')})`,
    );
  }
  if (reference) checkHasOutputs(reference, fetch);
  let lm: LmInputs | undefined;
  if (task === 'lm') {
    if (labels) {
      throw new QuantkitError('labels are for classification; task lm reads its targets from the token ids');
    }
    lm = lmInputs(model.graph, options.input);
  } else if (task !== 'classify') {
    throw new QuantkitError(`unknown task '${task as string}' (classify or lm)`);
  }
  const runtime: RuntimeOptions = { ...options.runtime, threads: options.runtime?.threads ?? 1 };
  runtime.allowSpinning ??= false;
  const runners: Runner[] = [];
  try {
    runners.push(await Runner.create(model, runtime));
    if (reference) runners.push(await Runner.create(reference, runtime));
    const [runner, referenceRunner] = runners;
    const metrics = new MetricsAccumulator({
      output,
      labels,
      reference: reference !== undefined,
      classify: task === 'classify',
    });
    const perplexity = lm && new PerplexityAccumulator({ reference: reference !== undefined });
    const total = options.total ?? labels?.length;
    const timed = options.latency !== false;
    let first: FirstSamples | undefined;
    let done = 0;
    for await (const data of batches) {
      const batch = lm ? completeLmBatch(data, lm) : data;
      const rows = batchRows(batch);
      if (timed) {
        first ??= new FirstSamples(options.batchSize ?? rows);
        first.add(batch);
      }
      const outputs = (await runner.run(batch, fetch)) as Record<string, NdArray>;
      const referenceOutputs = referenceRunner
        ? ((await referenceRunner.run(batch, fetch)) as Record<string, NdArray>)
        : undefined;
      metrics.add(rows, outputs, referenceOutputs);
      if (perplexity) addLmBatch(perplexity, tokenIds(batch, lm!.tokens), output, outputs, referenceOutputs);
      done += rows;
      onProgress?.({ stage: 'evaluate', done, total });
    }
    const { referenceAccuracy, ...m } = metrics.result();
    const p: LmMetrics | undefined = perplexity?.result();

    let times: RunTimes[] = [];
    if (timed) {
      const tuning = typeof options.latency === 'object' ? options.latency : {};
      times = await measureLatency(runners, first!.batch(), { ...tuning, onProgress });
    }
    const threads = runtime.threads!;
    const figures = (i: number): LatencyFigures | undefined => {
      if (!times[i]) return undefined;
      const { runs, median, p90 } = summarizeDurations(times[i].wall);
      const cpuMedian = summarizeDurations(times[i].cpu).median;
      return { batch: first!.size, runs, threads, median, p90, cpuMedian };
    };

    const accuracy = p ? p.accuracy : m.accuracy;
    const agreement = p ? p.agreement : m.agreement;
    const result: Evaluation = {
      task,
      samples: m.samples,
      output,
      ...(lm && p && { input: lm.tokens, tokens: p.tokens, perplexity: p.perplexity, nll: p.nll }),
      ...(accuracy !== undefined && { accuracy }),
      ...(agreement !== undefined && { agreement }),
      ...(m.sqnrDb !== undefined && {
        sqnrDb: m.sqnrDb,
        cosine: m.cosine,
        maxAbsError: m.maxAbsError,
        outputsIdentical: m.outputsIdentical,
      }),
      bytes: encodeModel(model).bytes,
      ...(times.length > 0 && { latencyMs: figures(0), cpu: cpuFeatures() }),
      ...(m.outputs && { outputs: m.outputs }),
    };
    if (reference) {
      const ref: ModelFigures = {
        bytes: encodeModel(reference).bytes,
        ...(referenceAccuracy !== undefined && { accuracy: referenceAccuracy }),
        ...(p?.reference && {
          accuracy: p.reference.accuracy,
          perplexity: p.reference.perplexity,
          nll: p.reference.nll,
        }),
        ...(times.length > 1 && { latencyMs: figures(1) }),
      };
      result.reference = ref;
      result.comparison = compare(
        result,
        ref,
        times.length > 1 ? speedup(times[0], times[1], threads) : undefined,
      );
    }
    return result;
  } finally {
    for (const r of runners) await r.release();
  }
}

function addLmBatch(
  perplexity: PerplexityAccumulator,
  ids: ReturnType<typeof tokenIds>,
  output: string,
  outputs: Record<string, NdArray>,
  referenceOutputs: Record<string, NdArray> | undefined,
): void {
  const what = `output '${output}'`;
  const layout = lmLayout(outputs[output].shape, ids.shape, what);
  const reference = referenceOutputs?.[output];
  if (reference) lmLayout(reference.shape, ids.shape, `${what} of the reference model`);
  perplexity.add(
    ids.data,
    asFloat32(outputs[output], what),
    layout,
    reference && asFloat32(reference, `${what} of the reference model`),
  );
}

function checkHasOutputs(reference: Model, names: readonly string[]): void {
  for (const name of names) {
    if (reference.graph.isGraphOutput(name)) continue;
    const theirs = reference.graph.outputs.map((o) => o.name).join(', ');
    throw new QuantkitError(
      `the reference model has no output '${name}' (its outputs: ${theirs}); the two models must have the same outputs`,
    );
  }
}

/** Outputs that are numeric tensors; strings and sequences/maps carry no error to measure. */
function numericOutputs(model: Model): string[] {
  return model.graph.outputs
    .filter((o) => {
      const { dtype } = tensorTypeOf(o.type);
      return dtype !== undefined && dtype !== 'string';
    })
    .map((o) => o.name);
}

/** CPU time is a run's latency without the waiting only when the run is one thread's work. */
function speedup(
  model: RunTimes,
  reference: RunTimes,
  threads: number,
): Pick<Comparison, 'speedup' | 'speedupFrom'> {
  return threads === 1
    ? { speedup: medianRatio(reference.cpu, model.cpu), speedupFrom: 'cpu' }
    : { speedup: medianRatio(reference.wall, model.wall), speedupFrom: 'wall' };
}
