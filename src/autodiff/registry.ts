/**
 * Gradient rules by (domain, operator). Built-in rules cover standard ONNX operators; other modules
 * register theirs (fake quantization registers the rule of its model-local function), and a
 * registered rule takes precedence over a built-in one.
 */
import type { GradientRule } from './gradient-model.js';
import { BUILTIN_RULES } from './rules/index.js';

const registered = new Map<string, GradientRule>();

const key = (domain: string, opType: string) => `${domain === 'ai.onnx' ? '' : domain}\u0000${opType}`;

export function registerRule(domain: string, opType: string, rule: GradientRule): void {
  registered.set(key(domain, opType), rule);
}

export function ruleFor(domain: string, opType: string): GradientRule | undefined {
  const k = key(domain, opType);
  return registered.get(k) ?? (k.startsWith('\u0000') ? BUILTIN_RULES.get(opType) : undefined);
}
