/**
 * The float model's outputs on a fixed set of batches, computed once and kept, so that each of the many
 * candidate models a sensitivity analysis or a mixed-precision search builds costs one run of that
 * candidate only. Memory: the batches and one output per sample (a classifier's scores), which bounds
 * the data this is meant for to evaluation sets of some thousands of samples.
 */
import { QuantkitError } from '../errors.js';
import { asFloat32 } from '../evaluate/as-float32.js';
import { MetricsAccumulator } from '../evaluate/metrics.js';
import { type Batch, batchRows } from '../evaluate/sample-batch.js';
import type { Model } from '../onnx/model.js';
import { tensorTypeOf } from '../onnx/value-info.js';
import { type RuntimeOptions, Runner } from '../runtime/session.js';
import { type NdArray, sliceAxis0 } from '../tensor/ndarray.js';
import { SoftmaxDivergence } from './softmax-kl.js';

export interface CandidateMetrics {
  /** Top-1 accuracy against the labels, in [0, 1]. */
  accuracy?: number;
  /** The float model's accuracy on the same samples. */
  referenceAccuracy?: number;
  /** Share of samples with the reference's top-1 class. */
  agreement?: number;
  /** Mean KL divergence of the softmax outputs from the reference's, in nats (classifiers). */
  klDivergence?: number;
  /** Output SQNR against the reference, dB. */
  sqnrDb: number;
}

export interface ReferenceRunOptions {
  /** One class per sample the data yields. */
  labels?: Int32Array;
  /** Stop once this many samples are kept (the batch reaching it is kept whole). */
  limit?: number;
  runtime?: RuntimeOptions;
}

export class ReferenceRun {
  private constructor(
    private readonly batches: readonly Batch[],
    private readonly outputs: readonly NdArray[],
    /** The output compared: the model's first numeric output. */
    readonly output: string,
    private readonly probabilities: boolean,
    private readonly labels: Int32Array | undefined,
    private readonly runtime: RuntimeOptions,
    /** The float model's accuracy when labels were given. */
    readonly accuracy: number | undefined,
    readonly samples: number,
  ) {}

  static async create(
    model: Model,
    data: AsyncIterable<Batch> | Iterable<Batch>,
    opts: ReferenceRunOptions = {},
  ): Promise<ReferenceRun> {
    const output = model.graph.outputs.find((o) => {
      const { dtype } = tensorTypeOf(o.type);
      return dtype !== undefined && dtype !== 'string';
    })?.name;
    if (!output) throw new QuantkitError('the model has no numeric output to compare');
    const runtime: RuntimeOptions = { threads: 1, allowSpinning: false, ...opts.runtime };
    const runner = await Runner.create(model, runtime);
    const batches: Batch[] = [];
    const outputs: NdArray[] = [];
    const metrics = new MetricsAccumulator({ output, labels: opts.labels, reference: false });
    let samples = 0;
    try {
      for await (const batch of data) {
        // Sources may reuse their buffers between batches: keep copies.
        const kept = copyBatch(batch);
        const out = (await runner.run(kept, [output]))[output] as NdArray;
        batches.push(kept);
        outputs.push(out);
        const rows = batchRows(kept);
        if (opts.labels) metrics.add(rows, { [output]: out });
        samples += rows;
        if (samples >= (opts.limit ?? Infinity)) break;
      }
    } finally {
      await runner.release();
    }
    if (samples === 0) throw new QuantkitError('the data for comparing models holds no samples');
    const accuracy = opts.labels ? metrics.result().accuracy : undefined;
    const probabilities = model.graph.producer(output)?.opType === 'Softmax';
    return new ReferenceRun(batches, outputs, output, probabilities, opts.labels, runtime, accuracy, samples);
  }

  /**
   * Runs `candidate` on the kept batches — the first ones holding at least `limit` samples, when given —
   * and compares its output with the reference's.
   */
  async measure(candidate: Model, limit = Infinity): Promise<CandidateMetrics> {
    const runner = await Runner.create(candidate, this.runtime);
    const classifier = this.outputs[0].shape.length === 2 && this.outputs[0].shape[1] >= 2;
    const batches = this.firstBatches(limit);
    const total = batches.reduce((n, b) => n + batchRows(b), 0);
    const metrics = new MetricsAccumulator({
      output: this.output,
      labels: this.labels?.subarray(0, total),
      reference: true,
      classify: classifier,
    });
    const kl = classifier ? new SoftmaxDivergence(this.outputs[0].shape[1], this.probabilities) : undefined;
    try {
      for (const [i, batch] of batches.entries()) {
        const out = (await runner.run(batch, [this.output]))[this.output] as NdArray;
        const rows = batchRows(batch);
        const full = this.outputs[i];
        const ref = full.shape[0] === rows ? full : sliceAxis0(full, 0, rows);
        metrics.add(rows, { [this.output]: out }, { [this.output]: ref });
        kl?.add(asFloat32(ref, 'reference output'), asFloat32(out, `output '${this.output}'`));
      }
    } finally {
      await runner.release();
    }
    const m = metrics.result();
    return {
      ...(m.accuracy !== undefined && { accuracy: m.accuracy, referenceAccuracy: m.referenceAccuracy }),
      ...(m.agreement !== undefined && { agreement: m.agreement }),
      ...(kl && { klDivergence: kl.result() }),
      sqnrDb: m.sqnrDb!,
    };
  }

  /** The first `limit` samples of the kept batches (the last one cut short). */
  private firstBatches(limit: number): readonly Batch[] {
    const out: Batch[] = [];
    let rows = 0;
    for (const batch of this.batches) {
      if (rows >= limit) break;
      const n = batchRows(batch);
      out.push(rows + n <= limit ? batch : cutBatch(batch, limit - rows));
      rows += n;
    }
    return out;
  }
}

function cutBatch(batch: Batch, rows: number): Batch {
  const out: Batch = {};
  for (const [name, arr] of Object.entries(batch))
    out[name] = arr.shape.length === 0 ? arr : sliceAxis0(arr, 0, rows);
  return out;
}

function copyBatch(batch: Batch): Batch {
  const out: Batch = {};
  for (const [name, arr] of Object.entries(batch)) out[name] = { ...arr, data: arr.data.slice() } as NdArray;
  return out;
}
