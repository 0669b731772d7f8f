/**
 * Accuracy, agreement and output error of a model over streamed batches, in constant memory: each
 * batch's outputs are folded into counts and sums and dropped. Pure (no runtime): the Node `evaluate`
 * and the browser feed it the outputs of their own ONNX Runtime sessions.
 */
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';
import { asFloat32 } from './as-float32.js';
import { ErrorAccumulator, type OutputError } from './output-error.js';
import { classifierLayout, countMatches, top1 } from './top1.js';

export interface MetricsOptions {
  /** The classifier output top-1 classes are read from. */
  output: string;
  /** One class per sample, in data order. */
  labels?: Int32Array;
  /** Whether batches come with a reference model's outputs (agreement, SQNR, cosine, max-abs error). */
  reference: boolean;
  /**
   * false: `output` is not a classifier's (a language model's logits): only the output errors against
   * the reference are accumulated, no top-1 classes. Default true.
   */
  classify?: boolean;
}

/** Fractions are in [0, 1]. Error figures pool every compared output; `outputs` has them per output. */
export interface Metrics {
  samples: number;
  accuracy?: number;
  referenceAccuracy?: number;
  agreement?: number;
  sqnrDb?: number;
  cosine?: number;
  maxAbsError?: number;
  outputsIdentical?: boolean;
  outputs?: Record<string, OutputError>;
}

export class MetricsAccumulator {
  private samples = 0;
  private correct = 0;
  private referenceCorrect = 0;
  private agreeing = 0;
  private readonly errors = new Map<string, ErrorAccumulator>();

  constructor(private readonly options: MetricsOptions) {}

  /** One batch of `rows` samples: the model's outputs and, when comparing, the reference's. */
  add(rows: number, outputs: Record<string, NdArray>, reference?: Record<string, NdArray>): void {
    const { labels, output } = this.options;
    if (this.options.reference && !reference) throw new Error('a reference output batch is missing');
    let batchLabels: Int32Array | undefined;
    if (labels) {
      if (this.samples + rows > labels.length) {
        throw new QuantkitError(`the labels hold ${labels.length} samples, but the data has more`);
      }
      batchLabels = labels.subarray(this.samples, this.samples + rows);
    }
    // Output errors first: they compare whole shapes, the clearer message when the models disagree.
    if (reference) this.addErrors(outputs, reference);
    if ((batchLabels || reference) && this.options.classify !== false) {
      const classes = predict(output, outputs, rows, 'the model');
      if (batchLabels) this.correct += countMatches(classes, batchLabels);
      if (reference) {
        const referenceClasses = predict(output, reference, rows, 'the reference model');
        this.agreeing += countMatches(classes, referenceClasses);
        if (batchLabels) this.referenceCorrect += countMatches(referenceClasses, batchLabels);
      }
    }
    this.samples += rows;
  }

  result(): Metrics {
    const { labels } = this.options;
    if (this.samples === 0) throw new QuantkitError('the data has no samples');
    if (labels && labels.length !== this.samples) {
      throw new QuantkitError(`the labels hold ${labels.length} samples, but the data has ${this.samples}`);
    }
    const m: Metrics = { samples: this.samples };
    if (labels) m.accuracy = this.correct / this.samples;
    if (!this.options.reference) return m;
    if (labels) m.referenceAccuracy = this.referenceCorrect / this.samples;
    if (this.options.classify !== false) m.agreement = this.agreeing / this.samples;
    const total = new ErrorAccumulator();
    const outputs: Record<string, OutputError> = {};
    for (const [name, acc] of this.errors) {
      outputs[name] = acc.result();
      total.merge(acc);
    }
    const pooled = total.result();
    return { ...m, ...pooled, outputs };
  }

  private addErrors(outputs: Record<string, NdArray>, reference: Record<string, NdArray>): void {
    for (const [name, arr] of Object.entries(outputs)) {
      const ref = reference[name];
      if (!ref) {
        throw new QuantkitError(
          `the reference model has no output '${name}' (its outputs: ${Object.keys(reference).join(', ')}); ` +
            'the two models must have the same outputs',
        );
      }
      if (ref.shape.length !== arr.shape.length || ref.shape.some((d, i) => d !== arr.shape[i])) {
        throw new QuantkitError(
          `output '${name}' is [${arr.shape.join(', ')}] from the model but [${ref.shape.join(', ')}] from the reference`,
        );
      }
      let acc = this.errors.get(name);
      if (!acc) this.errors.set(name, (acc = new ErrorAccumulator()));
      acc.add(asFloat32(ref, `reference output '${name}'`), asFloat32(arr, `output '${name}'`));
    }
  }
}

function predict(name: string, outputs: Record<string, NdArray>, rows: number, whose: string): Int32Array {
  const arr = outputs[name];
  if (!arr) throw new QuantkitError(`${whose} has no output '${name}'`);
  const what = `output '${name}' of ${whose}`;
  const layout = classifierLayout(arr.shape, what);
  if (layout.rows !== rows) {
    throw new QuantkitError(`${what} has ${layout.rows} rows for a batch of ${rows} samples`);
  }
  return top1(asFloat32(arr, what), layout);
}
