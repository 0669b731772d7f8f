/** The built-in gradient rules of standard ONNX operators, by operator type. */
import type { GradientRule } from '../gradient-model.js';
import { ACTIVATION_RULES } from './activations.js';
import { CONV_RULES } from './conv.js';
import { ELEMENTWISE_RULES } from './elementwise.js';
import { GATHER_RULES } from './gather.js';
import { MATMUL_RULES } from './matmul.js';
import { NORMALIZATION_RULES } from './normalization.js';
import { POOL_RULES } from './pool.js';
import { QDQ_RULES } from './qdq.js';
import { REDUCE_RULES } from './reduce.js';
import { SHAPE_RULES } from './shape.js';
import { SOFTMAX_RULES } from './softmax.js';

export const BUILTIN_RULES: ReadonlyMap<string, GradientRule> = new Map(
  Object.entries({
    ...ACTIVATION_RULES,
    ...CONV_RULES,
    ...ELEMENTWISE_RULES,
    ...GATHER_RULES,
    ...MATMUL_RULES,
    ...NORMALIZATION_RULES,
    ...POOL_RULES,
    ...QDQ_RULES,
    ...REDUCE_RULES,
    ...SHAPE_RULES,
    ...SOFTMAX_RULES,
  }),
);
