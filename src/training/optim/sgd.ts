/**
 * SGD with momentum and L2 weight decay, as PyTorch's torch.optim.SGD (dampening 0):
 * g ← ∇ + λ·p;  b ← μ·b + g (b = g on the first step);  p ← p − η·b  (Nesterov: p ← p − η·(g + μ·b)).
 */
import { Buffers, gradientOf, type Optimizer, type Parameter } from './optimizer.js';

export interface SgdOptions {
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class Sgd implements Optimizer {
  private readonly momentum: number;
  private readonly weightDecay: number;
  private readonly nesterov: boolean;
  private readonly buffers = new Buffers('momentum');
  private count = 0;

  constructor(opts: SgdOptions = {}) {
    this.momentum = opts.momentum ?? 0.9;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
  }

  get steps(): number {
    return this.count;
  }

  step(params: readonly Parameter[], grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    const mu = this.momentum;
    for (const p of params) {
      const grad = gradientOf(grads, p);
      const w = p.data;
      const decay = p.decay ? this.weightDecay : 0;
      const b = mu !== 0 ? this.buffers.of(p) : undefined;
      for (let i = 0; i < w.length; i++) {
        let g = grad[i] + decay * w[i];
        if (b) {
          b[i] = this.count === 0 ? g : mu * b[i] + g;
          g = this.nesterov ? g + mu * b[i] : b[i];
        }
        w[i] -= lr * g;
      }
    }
    this.count++;
  }

  state(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.buffers.saveInto(out);
    return out;
  }

  restore(state: ReadonlyMap<string, Float32Array>, steps: number): void {
    this.buffers.restoreFrom(state);
    this.count = steps;
  }
}
