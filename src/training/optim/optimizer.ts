/**
 * Optimisers update parameters held as typed arrays in place from their gradients; their state
 * (momentum buffers, moment estimates) is typed arrays too, so a checkpoint is a set of named arrays.
 */

export interface Parameter {
  name: string;
  shape: readonly number[];
  data: Float32Array;
  /**
   * Weight decay applies to this parameter. Off for biases, normalisation parameters and quantizer
   * scales, which decaying towards zero would only distort.
   */
  decay: boolean;
}

export interface Optimizer {
  /** Applies one update with learning rate `lr`; `grads` holds one array per parameter, same length. */
  step(params: readonly Parameter[], grads: ReadonlyMap<string, Float32Array>, lr: number): void;
  /** Updates done so far. */
  readonly steps: number;
  /** The state as named arrays (for checkpoints); names are `<parameter>/<buffer>`. */
  state(): Map<string, Float32Array>;
  /** Restores a state saved by `state()` after `steps` updates. */
  restore(state: ReadonlyMap<string, Float32Array>, steps: number): void;
}

export function gradientOf(grads: ReadonlyMap<string, Float32Array>, p: Parameter): Float32Array {
  const g = grads.get(p.name);
  if (!g || g.length !== p.data.length) {
    throw new Error(`no gradient of ${p.data.length} values for parameter '${p.name}'`);
  }
  return g;
}

/** A buffer per parameter, created as zeros on first use. */
export class Buffers {
  private readonly map = new Map<string, Float32Array>();

  constructor(private readonly suffix: string) {}

  of(p: Parameter): Float32Array {
    const key = `${p.name}/${this.suffix}`;
    let b = this.map.get(key);
    if (!b) {
      b = new Float32Array(p.data.length);
      this.map.set(key, b);
    }
    return b;
  }

  saveInto(out: Map<string, Float32Array>): void {
    for (const [k, v] of this.map) out.set(k, v);
  }

  restoreFrom(state: ReadonlyMap<string, Float32Array>): void {
    this.map.clear();
    const tail = `/${this.suffix}`;
    for (const [k, v] of state) if (k.endsWith(tail)) this.map.set(k, Float32Array.from(v));
  }
}
