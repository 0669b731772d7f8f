/**
 * A training checkpoint: parameters, BatchNormalization running statistics, optimiser state and the
 * step reached, as an .npz (named float32 arrays, plus a small JSON record stored as a uint8 array) —
 * readable by numpy as well as by `resume`. Writing it to disk atomically is the caller's (the CLI
 * uses src/io/atomic-write.ts), so an interrupted run never leaves half a checkpoint.
 */
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';
import { parseNpz, serializeNpz } from '../tensor/npz.js';

export interface Checkpoint {
  /** Steps completed. */
  step: number;
  parameters: Map<string, Float32Array>;
  batchNorm: Map<string, Float32Array>;
  optimizer: Map<string, Float32Array>;
  optimizerSteps: number;
}

const META = '__checkpoint__';
const GROUPS = ['parameters', 'batchNorm', 'optimizer'] as const;
const utf8 = new TextEncoder();

export function serializeCheckpoint(c: Checkpoint): Uint8Array {
  const arrays: Record<string, NdArray> = {};
  for (const group of GROUPS) {
    for (const [name, data] of c[group])
      arrays[`${group}/${name}`] = { dtype: 'float32', shape: [data.length], data };
  }
  const meta = utf8.encode(JSON.stringify({ step: c.step, optimizerSteps: c.optimizerSteps }));
  arrays[META] = { dtype: 'uint8', shape: [meta.length], data: meta };
  return serializeNpz(arrays);
}

export function parseCheckpoint(bytes: Uint8Array, where: string): Checkpoint {
  const arrays = parseNpz(bytes);
  const meta = arrays[META];
  if (!meta) throw new QuantkitError(`${where} is not a quantkit training checkpoint (no ${META} entry)`);
  const { step, optimizerSteps } = JSON.parse(new TextDecoder().decode(meta.data as Uint8Array)) as {
    step: number;
    optimizerSteps: number;
  };
  const c: Checkpoint = {
    step,
    optimizerSteps,
    parameters: new Map(),
    batchNorm: new Map(),
    optimizer: new Map(),
  };
  for (const [key, arr] of Object.entries(arrays)) {
    if (key === META) continue;
    const slash = key.indexOf('/');
    const group = key.slice(0, slash) as (typeof GROUPS)[number];
    if (!GROUPS.includes(group) || arr.dtype !== 'float32') {
      throw new QuantkitError(`${where}: unexpected checkpoint entry '${key}' (${arr.dtype})`);
    }
    c[group].set(key.slice(slash + 1), arr.data as Float32Array);
  }
  return c;
}
