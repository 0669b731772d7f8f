/** What each kind of data (array files, images) hands the sample source once opened and checked. */
import type { DType } from '../tensor/dtype.js';
import type { NdArray } from '../tensor/ndarray.js';
import type { Pieces } from './batch-stream.js';

export interface SampleInput {
  name: string;
  dtype: DType;
  /** One sample's shape: a batch of n is [n, ...sampleShape]. */
  sampleShape: number[];
  /** False for a rank-0 model input, which every batch receives whole. */
  batched: boolean;
}

export interface SampleData {
  inputs: SampleInput[];
  pieces: Pieces;
  constants: Record<string, NdArray>;
  /** Samples counted when opening. */
  samples: number;
  /** False when counting stopped at the requested limit before the last file. */
  complete: boolean;
}
