/**
 * Learning-rate schedules as a function of the step (0-based): an optional linear warm-up from
 * lr/warmup to lr, then constant, cosine decay to `minLr`, or steps of ×gamma every `stepSize` steps.
 */
import { QuantkitError } from '../errors.js';

export type ScheduleKind = 'constant' | 'cosine' | 'step';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'cosine', 'step'];

export interface Schedule {
  kind: ScheduleKind;
  lr: number;
  /** Steps the whole run takes (cosine decays over the steps after warm-up). */
  totalSteps: number;
  warmupSteps?: number;
  /** Cosine: the rate reached at the last step. Default 0. */
  minLr?: number;
  /** Step: decay every this many steps after warm-up. */
  stepSize?: number;
  /** Step: the factor applied each time. Default 0.1. */
  gamma?: number;
}

export function checkSchedule(s: Schedule): void {
  if (!SCHEDULE_KINDS.includes(s.kind)) {
    throw new QuantkitError(
      `unknown learning-rate schedule '${s.kind}' (choose ${SCHEDULE_KINDS.join(', ')})`,
    );
  }
  if (!(s.lr > 0 && Number.isFinite(s.lr)))
    throw new QuantkitError(`learning rate must be positive, got ${s.lr}`);
  if (!(Number.isSafeInteger(s.totalSteps) && s.totalSteps > 0)) {
    throw new QuantkitError(`the number of training steps must be a positive integer, got ${s.totalSteps}`);
  }
  const warmup = s.warmupSteps ?? 0;
  if (!(Number.isSafeInteger(warmup) && warmup >= 0)) {
    throw new QuantkitError(`warm-up steps must be a non-negative integer, got ${warmup}`);
  }
  if (s.kind === 'step' && !(Number.isSafeInteger(s.stepSize) && s.stepSize! > 0)) {
    throw new QuantkitError(`the step schedule needs a positive step size, got ${s.stepSize}`);
  }
}

export function learningRate(s: Schedule, step: number): number {
  const warmup = s.warmupSteps ?? 0;
  if (step < warmup) return (s.lr * (step + 1)) / warmup;
  const t = step - warmup;
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'step':
      return s.lr * (s.gamma ?? 0.1) ** Math.floor(t / s.stepSize!);
    case 'cosine': {
      const span = Math.max(1, s.totalSteps - warmup - 1);
      const min = s.minLr ?? 0;
      return min + (s.lr - min) * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, span)) / span));
    }
  }
}
