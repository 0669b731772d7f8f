/** State shared by the per-op rewrites of one dynamic-quantization run. */
import type { ActivationQuantizer } from './activations.js';
import type { ResolvedDynamicOptions } from './options.js';
import type { WeightStore } from './weight-store.js';

export interface DynamicContext {
  options: ResolvedDynamicOptions;
  activations: ActivationQuantizer;
  weights: WeightStore;
}

/** What a rewrite did with one node: rewritten (note says how) or left alone (note says why). */
export interface Rewrite {
  done: boolean;
  note: string;
}

export const skipped = (note: string): Rewrite => ({ done: false, note });
