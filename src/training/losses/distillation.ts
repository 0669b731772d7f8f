/**
 * Distillation loss (DOMAIN.md §7, Hinton et al. 2015):
 * L = α·H(y, σ(z_s)) + β·T²·H(σ(z_t/T), σ(z_s/T)).
 * The soft term's gradient with respect to z_s is (σ(z_s/T) − σ(z_t/T))/T, so it shrinks as 1/T²
 * relative to the hard term as T grows; the T² factor (Hinton's) undoes that, keeping α and β the
 * relative weights of the two terms whatever temperature is chosen. The teacher's logits are an input:
 * the trainer computes them with the FP32 model in ONNX Runtime each step.
 */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { GraphEditor } from '../graph-editor.js';
import { addTargetInput, crossEntropyTerm } from './cross-entropy.js';
import type { LossGraph } from './loss.js';

export interface DistillationWeights {
  alpha: number;
  beta: number;
  temperature: number;
}

export function checkDistillation(w: DistillationWeights): void {
  for (const k of ['alpha', 'beta', 'temperature'] as const) {
    const v = w[k];
    if (!Number.isFinite(v) || v < 0) throw new QuantkitError(`distillation ${k} must be ≥ 0, got ${v}`);
  }
  if (!(w.temperature > 0))
    throw new QuantkitError(`distillation temperature must be > 0, got ${w.temperature}`);
  if (w.alpha + w.beta === 0) throw new QuantkitError('distillation needs alpha or beta above 0');
}

export function appendDistillation(e: GraphEditor, logits: string, w: DistillationWeights): LossGraph {
  checkDistillation(w);
  const target = addTargetInput(e, logits, 'target');
  const teacherLogits = addTargetInput(e, logits, 'teacher_logits');
  const t = e.scalar(w.temperature, 'temperature');
  const teacher = e.op('Softmax', [e.op('Div', [teacherLogits, t])], [Attribute.int('axis', -1)]);
  const soft = crossEntropyTerm(e, e.op('Div', [logits, t]), teacher);
  const hard = crossEntropyTerm(e, logits, target);
  const weighted = (term: string, k: number, base: string) => e.op('Mul', [term, e.scalar(k, base)]);
  const loss = e.op('Add', [
    weighted(hard, w.alpha, 'alpha'),
    weighted(soft, w.beta * w.temperature ** 2, 'beta_t2'),
  ]);
  return { loss, target, teacherLogits };
}
