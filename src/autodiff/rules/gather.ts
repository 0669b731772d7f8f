/**
 * Gather and GatherElements (embeddings, token lookups): gathering the flat positions of the data
 * with the same indices says where each element of dy came from; repeated indices accumulate.
 */
import type { GradientRule } from '../gradient-model.js';
import { flatPositions, scatterAddFlat } from './scatter.js';

const gather: GradientRule = (node, [dy], ctx) => {
  const data = node.inputs[0];
  const taken = ctx.op(node.opType, [flatPositions(ctx, data), node.inputs[1]], node.attributes());
  return [scatterAddFlat(ctx, taken, dy!, data), undefined];
};

export const GATHER_RULES: Record<string, GradientRule> = { Gather: gather, GatherElements: gather };
