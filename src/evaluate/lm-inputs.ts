/**
 * Which model input holds a language model's token ids, and the inputs evaluation can fill in itself.
 *
 * Exported causal LMs commonly take `attention_mask` (and some `position_ids`) besides `input_ids`. For
 * perplexity over full windows of real tokens these carry nothing the windows do not say: the mask is
 * all ones and the positions are 0..T−1. So when the data does not provide them they are made here, and
 * the data only needs the token ids. Pure (no runtime).
 */
import { QuantkitError } from '../errors.js';
import type { Graph } from '../onnx/graph.js';
import { tensorTypeOf } from '../onnx/value-info.js';
import { elementArrayFor, type DType } from '../tensor/dtype.js';
import type { NdArray } from '../tensor/ndarray.js';
import type { TokenIds } from './perplexity.js';

/** Inputs made when missing: all-ones masks and 0..T−1 positions. */
export const FILLED_INPUTS: Readonly<Record<string, 'ones' | 'positions'>> = {
  attention_mask: 'ones',
  position_ids: 'positions',
};

const ID_TYPES: readonly DType[] = ['int64', 'int32', 'uint32', 'int16', 'uint16', 'uint64'];

export interface LmInputs {
  /** The input whose ids are the targets. */
  tokens: string;
  /** Inputs filled in when a batch lacks them, with their element type. */
  filled: { name: string; kind: 'ones' | 'positions'; dtype: DType }[];
}

/**
 * `input`: the token input's name when given; otherwise `input_ids` if the model has it, else its only
 * integer input besides the ones that can be filled in.
 */
export function lmInputs(graph: Graph, input?: string): LmInputs {
  const inputs = graph.inputs
    .filter((vi) => !graph.initializers.has(vi.name))
    .map((vi) => ({ name: vi.name, dtype: tensorTypeOf(vi.type).dtype }));
  const names = inputs.map((i) => `'${i.name}'`).join(', ');
  let tokens: string | undefined = input;
  if (tokens === undefined) {
    const candidates = inputs.filter((i) => !(i.name in FILLED_INPUTS) && isIdType(i.dtype));
    tokens = inputs.some((i) => i.name === 'input_ids')
      ? 'input_ids'
      : candidates.length === 1
        ? candidates[0].name
        : undefined;
    if (tokens === undefined) {
      throw new QuantkitError(
        `cannot tell which input holds the token ids (inputs: ${names}); name it with --input`,
      );
    }
  }
  const token = inputs.find((i) => i.name === tokens);
  if (!token) throw new QuantkitError(`the model has no input '${tokens}' (inputs: ${names})`);
  if (token.dtype !== undefined && !isIdType(token.dtype)) {
    throw new QuantkitError(`input '${tokens}' is ${token.dtype}; token ids must be integers`);
  }
  const filled = inputs
    .filter((i) => i.name !== tokens && i.name in FILLED_INPUTS)
    .map((i) => ({ name: i.name, kind: FILLED_INPUTS[i.name], dtype: i.dtype ?? 'int64' }));
  for (const f of filled) {
    if (!isIdType(f.dtype) && f.dtype !== 'float32' && f.dtype !== 'bool') {
      throw new QuantkitError(`input '${f.name}' is ${f.dtype}; cannot fill it in`);
    }
  }
  return { tokens, filled };
}

/** The batch with the missing filled-in inputs added, shaped like its token ids [N, T]. */
export function completeLmBatch(batch: Record<string, NdArray>, plan: LmInputs): Record<string, NdArray> {
  const ids = tokenIds(batch, plan.tokens);
  const missing = plan.filled.filter((f) => !(f.name in batch));
  if (missing.length === 0) return batch;
  const [rows, steps] = ids.shape;
  const out = { ...batch };
  for (const f of missing) {
    const Array = elementArrayFor(f.dtype);
    const data = new Array(rows * steps);
    const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < steps; t++) {
        const v = f.kind === 'ones' ? 1 : t;
        data[r * steps + t] = (big ? BigInt(v) : v) as never;
      }
    }
    out[f.name] = { dtype: f.dtype, shape: [rows, steps], data };
  }
  return out;
}

/** The batch's token ids, checked to be integers of rank 2. */
export function tokenIds(batch: Record<string, NdArray>, name: string): NdArray & { data: TokenIds } {
  const ids = batch[name];
  if (!ids) throw new QuantkitError(`the data has no token ids for input '${name}'`);
  if (!isIdType(ids.dtype)) throw new QuantkitError(`the token ids for input '${name}' are ${ids.dtype}`);
  if (ids.shape.length !== 2) {
    throw new QuantkitError(
      `the token ids for input '${name}' have shape [${ids.shape.join(', ')}]; perplexity needs [windows, tokens]`,
    );
  }
  return ids as NdArray & { data: TokenIds };
}

function isIdType(dtype: DType | undefined): boolean {
  return dtype !== undefined && ID_TYPES.includes(dtype);
}
