/** Optimisers by name, as the command line and the training options name them. */
import { QuantkitError } from '../../errors.js';
import { Adam } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { Sgd } from './sgd.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw'];

export interface OptimizerSettings {
  name: OptimizerName;
  weightDecay?: number;
  /** SGD momentum; default 0.9. */
  momentum?: number;
}

export function createOptimizer(s: OptimizerSettings): Optimizer {
  switch (s.name) {
    case 'sgd':
      return new Sgd({ momentum: s.momentum, weightDecay: s.weightDecay });
    case 'adam':
      return new Adam({ weightDecay: s.weightDecay });
    case 'adamw':
      return new Adam({ weightDecay: s.weightDecay, decoupled: true });
    default:
      throw new QuantkitError(
        `unknown optimizer '${s.name as string}' (choose ${OPTIMIZER_NAMES.join(', ')})`,
      );
  }
}
