/** How the dynamic writer quantizes a weight, and how a report line describes it. */
import type { Granularity } from '../../quant/granularity.js';
import type { WeightSpec } from '../../quant/weights.js';
import type { DynamicWeightType } from './options.js';

export interface DynamicWeightSpec extends WeightSpec {
  type: DynamicWeightType;
}

export function weightSpec(
  type: DynamicWeightType,
  granularity: Granularity,
  symmetric: boolean,
  reduceRange: boolean,
): DynamicWeightSpec {
  return { type, granularity, symmetric, reduceRange };
}

/** A key telling apart two quantized forms of one weight. */
export function specKey(spec: DynamicWeightSpec): string {
  const g = spec.granularity;
  const where = g.kind === 'tensor' ? 'tensor' : `${g.kind}${g.axis}`;
  return `${spec.type}/${where}/${spec.symmetric ? 's' : 'a'}${spec.reduceRange ? '/r' : ''}`;
}

/** e.g. "int8 symmetric weights, per channel (64 scales)"; `where` replaces the granularity part. */
export function describeWeights(spec: DynamicWeightSpec, where: number | string): string {
  const sym = spec.symmetric ? 'symmetric' : 'asymmetric';
  const reduced = spec.reduceRange ? ' 7-bit (reduce-range)' : '';
  const granularity =
    typeof where === 'string'
      ? where
      : spec.granularity.kind === 'tensor'
        ? 'per tensor'
        : `per channel (${where} scales)`;
  return `${spec.type}${reduced} ${sym} weights, ${granularity}`;
}
