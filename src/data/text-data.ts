/**
 * Calibration windows from plain text, for causal language models (`--calib-text FILE --tokenizer
 * tokenizer.json`): the whole file is tokenised once, and the ids are cut into consecutive,
 * non-overlapping windows of the model's sequence length, as GPTQ and AWQ calibrate. Tokens past the
 * last full window are left out. The windows feed the token input; `attention_mask` and `position_ids`
 * inputs get what a full window of real tokens implies (all ones, 0..T−1), as perplexity evaluation
 * does. The result is an ordinary sample source.
 */
import { readFile } from 'node:fs/promises';
import { QuantkitError } from '../errors.js';
import { completeLmBatch, lmInputs } from '../evaluate/lm-inputs.js';
import type { Graph } from '../onnx/graph.js';
import type { Dim } from '../onnx/value-info.js';
import { elementArrayFor, type DType } from '../tensor/dtype.js';
import type { NdArray } from '../tensor/ndarray.js';
import { describeFsError } from './fs-errors.js';
import { requiredInputs } from './model-inputs.js';
import { arraySampleSource, type SampleSource, type SampleSourceOptions } from './sample-source.js';
import { readTokenizer } from './tokenizer-file.js';

export interface TextSourceOptions extends Pick<SampleSourceOptions, 'limit' | 'purpose'> {
  /** The model's tokenizer.json. */
  tokenizer: string;
  /** Tokens per window; default: the token input's fixed sequence dimension. */
  seqLen?: number;
  /** The input taking the token ids; default `input_ids`, or the model's only integer input. */
  input?: string;
}

export async function openTextSource(
  path: string,
  graph: Graph,
  options: TextSourceOptions,
): Promise<SampleSource> {
  const label = `${options.purpose ?? 'calibration'} text`;
  const plan = lmInputs(graph, options.input);
  const token = requiredInputs(graph).find((i) => i.name === plan.tokens)!;
  const steps = windowLength(token.shape, plan.tokens, options.seqLen);
  const tokenizer = await readTokenizer(options.tokenizer);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new QuantkitError(`${label} '${path}': ${describeFsError(e)}`);
  }
  const ids = tokenizer.encode(text);
  const available = Math.floor(ids.length / steps);
  if (available === 0) {
    throw new QuantkitError(
      `${label} '${path}' has ${ids.length} tokens, fewer than one window of ${steps}; ` +
        'give more text or a shorter --calib-seq-len',
    );
  }
  const rows = Math.min(available, options.limit ?? Infinity);
  const windows = tokenWindows(ids, rows, steps, token.dtype ?? 'int64');
  const source = arraySampleSource(completeLmBatch({ [plan.tokens]: windows }, plan), requiredInputs(graph), {
    limit: options.limit,
    purpose: options.purpose,
  });
  const unused = ids.length - rows * steps;
  const notes = [
    ...source.notes,
    `${label} '${path}': ${ids.length} tokens → ${rows} windows of ${steps}` +
      (unused > 0 ? ` (the last ${unused} tokens left out)` : ''),
  ];
  return {
    path,
    inputs: source.inputs,
    sampleCount: source.sampleCount,
    totalSamples: available,
    fixedBatchSize: source.fixedBatchSize,
    notes,
    batches: (batchSize) => source.batches(batchSize),
  };
}

function windowLength(shape: readonly Dim[] | undefined, input: string, seqLen?: number): number {
  const fixed = typeof shape?.[1] === 'number' ? shape[1] : undefined;
  if (seqLen !== undefined) {
    if (!(Number.isSafeInteger(seqLen) && seqLen > 1)) {
      throw new QuantkitError(`--calib-seq-len must be an integer above 1, got ${seqLen}`);
    }
    if (fixed !== undefined && fixed !== seqLen) {
      throw new QuantkitError(
        `input '${input}' takes sequences of ${fixed} tokens; --calib-seq-len ${seqLen} differs`,
      );
    }
    return seqLen;
  }
  if (fixed !== undefined && fixed > 1) return fixed;
  throw new QuantkitError(
    `input '${input}' does not fix its sequence length; say how many tokens a calibration window holds ` +
      'with --calib-seq-len (the context the model was trained for, or less)',
  );
}

/** The first rows·steps ids as [rows, steps] of the input's integer type. */
function tokenWindows(ids: readonly number[], rows: number, steps: number, dtype: DType): NdArray {
  const data = new (elementArrayFor(dtype))(rows * steps);
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  for (let i = 0; i < data.length; i++) data[i] = (big ? BigInt(ids[i]) : ids[i]) as never;
  return { dtype, shape: [rows, steps], data };
}
