/**
 * Model-input batches for calibration and evaluation, from a .npy/.npz file, a folder of them, or a
 * folder of PNG/JPEG images with a `--preprocess` spec. Every source streams: a folder is read one
 * file (or image) at a time on each pass, and a pass can be repeated from the start.
 *
 * Rules (see input-samples.ts for how a file's arrays hold samples):
 * - Data is checked against the model's inputs when opened, naming the file: element types must be
 *   equal, ranks and every fixed dimension must match, and the set must not be empty.
 * - A model whose batch dimension is fixed (e.g. [1, 3, 224, 224]) gets batches of exactly that size,
 *   whatever size is asked for; samples that do not fill a last batch are left out. Both are notes.
 */
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';
import { openArrayFile, openArrayFolder, openArrays } from './array-data.js';
import { BatchStream } from './batch-stream.js';
import { listDataFiles } from './data-files.js';
import { openImages } from './image-data.js';
import { inputNames, type ModelInput } from './model-inputs.js';
import { type PreprocessSpec, parsePreprocessSpec } from './preprocess-spec.js';
import type { SampleData, SampleInput } from './sample-data.js';

export type { SampleInput } from './sample-data.js';

export interface SampleSourceOptions {
  /** How images become inputs (`--preprocess`); required for images, refused for arrays. */
  preprocess?: string | PreprocessSpec;
  /** Use only the first N samples (`--calib-samples`). */
  limit?: number;
  /** What the data is for, as messages name it. Default 'calibration'. */
  purpose?: 'calibration' | 'evaluation' | 'training';
}

export interface SampleSource {
  readonly path: string;
  readonly inputs: readonly SampleInput[];
  /** Samples one pass of batches yields. */
  readonly sampleCount: number;
  /** Samples in the whole data set; undefined when a limit stopped a folder from being counted. */
  readonly totalSamples: number | undefined;
  /** Set when the model fixes its batch dimension; every batch then holds exactly this many. */
  readonly fixedBatchSize: number | undefined;
  /** For the user: a forced batch size, samples left out, files skipped. */
  readonly notes: readonly string[];
  /** One pass over the data, from the start; the last batch may be smaller. */
  batches(batchSize: number): AsyncIterableIterator<Record<string, NdArray>>;
}

/**
 * A sample source over arrays in memory, one per model input (by name; any name when the model has one
 * input), samples along axis 0 — for callers of the library that already hold their data.
 */
export function arraySampleSource(
  arrays: Record<string, NdArray>,
  inputs: readonly ModelInput[],
  options: Pick<SampleSourceOptions, 'limit' | 'purpose'> = {},
): SampleSource {
  const label = `${options.purpose ?? 'calibration'} data`;
  const data = openArrays(arrays, inputs, label);
  if (data.samples === 0) throw new QuantkitError(`the ${label} holds no samples`);
  const fixed = fixedBatchSize(inputs);
  const count = Math.min(data.samples, options.limit ?? Infinity);
  const usable = fixed ? count - (count % fixed.size) : count;
  return new StreamedSource('<arrays>', data, usable, fixed?.size, []);
}

export async function openSampleSource(
  path: string,
  inputs: readonly ModelInput[],
  options: SampleSourceOptions = {},
): Promise<SampleSource> {
  const label = `${options.purpose ?? 'calibration'} data`;
  const limit = options.limit ?? Infinity;
  if (options.limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new QuantkitError(`the number of samples to use must be a positive integer, got ${options.limit}`);
  }
  if (inputs.length === 0) throw new QuantkitError(`the model has no inputs to feed ${label} to`);
  const fixed = fixedBatchSize(inputs);
  const listing = await listDataFiles(path, label);
  const notes: string[] = [];
  if (listing.skipped.length > 0) {
    notes.push(
      `skipped ${listing.skipped.length} entries of '${path}' that are not .npy/.npz files or PNG/JPEG images` +
        ` (e.g. '${listing.skipped[0]}')`,
    );
  }
  let data: SampleData;
  if (listing.kind === 'images') {
    data = openImageData(listing.files, path, inputs, options.preprocess, label);
  } else {
    if (options.preprocess !== undefined) {
      throw new QuantkitError(
        `--preprocess applies to images, but ${label} '${path}' holds arrays; preprocess them before saving`,
      );
    }
    data = listing.folder
      ? await openArrayFolder(listing.files, inputs, label, limit)
      : await openArrayFile(path, inputs, label);
  }
  if (data.samples === 0) {
    throw new QuantkitError(`${label} '${path}' holds no samples`);
  }
  let sampleCount = Math.min(data.samples, limit);
  if (data.complete && limit !== Infinity && limit > data.samples) {
    notes.push(`asked for ${limit} samples, ${label} '${path}' holds ${data.samples}: using them all`);
  }
  if (fixed) {
    notes.push(
      `input '${fixed.input}' has a fixed batch size of ${fixed.size}: every batch holds exactly ${fixed.size}` +
        ` sample${fixed.size === 1 ? '' : 's'}, whatever batch size is asked for`,
    );
    const usable = sampleCount - (sampleCount % fixed.size);
    if (usable === 0) {
      throw new QuantkitError(
        `${label} '${path}' has ${sampleCount} samples, fewer than the ${fixed.size} that input '${fixed.input}' takes at once`,
      );
    }
    if (usable < sampleCount) {
      notes.push(
        `the last ${sampleCount - usable} of ${sampleCount} samples are left out: they do not fill a batch`,
      );
    }
    sampleCount = usable;
  }
  return new StreamedSource(path, data, sampleCount, fixed?.size, notes);
}

class StreamedSource implements SampleSource {
  readonly inputs: readonly SampleInput[];
  readonly totalSamples: number | undefined;

  constructor(
    readonly path: string,
    private readonly data: SampleData,
    readonly sampleCount: number,
    readonly fixedBatchSize: number | undefined,
    readonly notes: readonly string[],
  ) {
    this.inputs = data.inputs;
    this.totalSamples = data.complete ? data.samples : undefined;
  }

  batches(batchSize: number): AsyncIterableIterator<Record<string, NdArray>> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new QuantkitError(`batch size must be a positive integer, got ${batchSize}`);
    }
    const { pieces, constants } = this.data;
    return new BatchStream(pieces, constants, this.sampleCount, this.fixedBatchSize ?? batchSize);
  }
}

function openImageData(
  files: readonly string[],
  path: string,
  inputs: readonly ModelInput[],
  preprocess: SampleSourceOptions['preprocess'],
  label: string,
): SampleData {
  if (inputs.length !== 1) {
    throw new QuantkitError(
      `${label} '${path}' holds images, which can feed a model with one input; this one has ${inputs.length}` +
        ` (${inputNames(inputs)}); give a .npz with one array per input instead`,
    );
  }
  if (preprocess === undefined) {
    throw new QuantkitError(
      `${label} '${path}' holds images; say how they become input '${inputs[0].name}' with --preprocess, ` +
        `e.g. --preprocess 'resize=256,crop=224,mean=0.485:0.456:0.406,std=0.229:0.224:0.225' ` +
        '(keys: resize, crop, mean, std, scale, layout)',
    );
  }
  const [spec, text] =
    typeof preprocess === 'string'
      ? [parsePreprocessSpec(preprocess), preprocess]
      : [preprocess, JSON.stringify(preprocess)];
  return openImages(files, inputs[0], spec, text, label);
}

/** The batch size the model's inputs fix, if any (they must agree). */
function fixedBatchSize(inputs: readonly ModelInput[]): { size: number; input: string } | undefined {
  let found: { size: number; input: string } | undefined;
  for (const { name, shape } of inputs) {
    const d = shape?.[0];
    if (typeof d !== 'number') continue;
    if (found && found.size !== d) {
      throw new QuantkitError(
        `the model fixes different batch sizes: input '${found.input}' takes ${found.size}, '${name}' takes ${d}`,
      );
    }
    found ??= { size: d, input: name };
  }
  return found;
}
