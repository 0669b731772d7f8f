/**
 * Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), as torch.optim.Adam / AdamW:
 * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − η·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε).
 * Adam's weight decay is L2 (g ← ∇ + λ·p); AdamW's is decoupled (p ← p − η·λ·p before the step),
 * which keeps the decay from being rescaled by the adaptive denominator.
 */
import { Buffers, gradientOf, type Optimizer, type Parameter } from './optimizer.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Decoupled weight decay (AdamW). Default false. */
  decoupled?: boolean;
}

export class Adam implements Optimizer {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decoupled: boolean;
  private readonly first = new Buffers('m');
  private readonly second = new Buffers('v');
  private count = 0;

  constructor(opts: AdamOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decoupled = opts.decoupled ?? false;
  }

  get steps(): number {
    return this.count;
  }

  step(params: readonly Parameter[], grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    const t = this.count + 1;
    const { beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    for (const p of params) {
      const grad = gradientOf(grads, p);
      const w = p.data;
      const m = this.first.of(p);
      const v = this.second.of(p);
      const decay = p.decay ? this.weightDecay : 0;
      const l2 = this.decoupled ? 0 : decay;
      const shrink = this.decoupled ? 1 - lr * decay : 1;
      for (let i = 0; i < w.length; i++) {
        const g = grad[i] + l2 * w[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        w[i] = w[i] * shrink - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    }
    this.count = t;
  }

  state(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.first.saveInto(out);
    this.second.saveInto(out);
    return out;
  }

  restore(state: ReadonlyMap<string, Float32Array>, steps: number): void {
    this.first.restoreFrom(state);
    this.second.restoreFrom(state);
    this.count = steps;
  }
}
