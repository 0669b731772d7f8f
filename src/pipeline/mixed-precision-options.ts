/**
 * The mixed-precision options of static quantization (`--keep-float`, `--float16-fallback`,
 * `--max-accuracy-drop`, `--bits-budget`), checked once so that the search itself can trust them.
 */
import { QuantkitError } from '../errors.js';
import { quantTypeBits, type QuantType } from '../quant/types.js';
import type { QuantizeOptions, QuantMode } from './options.js';

export interface ResolvedMixedPrecision {
  /** The N most sensitive layers stay float. */
  keepFloat: number;
  /** Layers kept float run in float16 instead of float32. */
  float16: boolean;
  /** Points of top-1 accuracy the result may lose on the evaluation data; layers go back to float until it holds. */
  maxAccuracyDrop: number | undefined;
  /** Average weight bits: layers get 4-bit weights, least sensitive per bit saved first, down to this. */
  bitsBudget: number | undefined;
}

export function resolveMixedPrecision(
  o: QuantizeOptions,
  mode: QuantMode,
  weightType: QuantType,
): ResolvedMixedPrecision | undefined {
  const { keepFloat, float16Fallback, maxAccuracyDrop, bitsBudget } = o;
  const asked = [
    keepFloat !== undefined && '--keep-float',
    maxAccuracyDrop !== undefined && '--max-accuracy-drop',
    bitsBudget !== undefined && '--bits-budget',
  ].filter((f) => typeof f === 'string');
  if (asked.length === 0) {
    if (float16Fallback) {
      throw new QuantkitError(
        '--float16-fallback applies to layers kept float: add --keep-float or --max-accuracy-drop',
      );
    }
    return undefined;
  }
  if (mode !== 'static') {
    throw new QuantkitError(
      `${asked.join(', ')} appl${asked.length > 1 ? 'y' : 'ies'} to static quantization, not to --mode ${mode}`,
    );
  }
  if (keepFloat !== undefined && !(Number.isSafeInteger(keepFloat) && keepFloat >= 0)) {
    throw new QuantkitError(`--keep-float takes a whole number of layers, got ${keepFloat}`);
  }
  if (maxAccuracyDrop !== undefined && !(maxAccuracyDrop >= 0 && maxAccuracyDrop < 100)) {
    throw new QuantkitError(
      `--max-accuracy-drop takes points of accuracy in [0, 100), got ${maxAccuracyDrop}`,
    );
  }
  if (bitsBudget !== undefined) {
    if (quantTypeBits(weightType) !== 8) {
      throw new QuantkitError(
        `--bits-budget mixes 8- and 4-bit weights; it needs 8-bit --weight-type, not ${weightType}`,
      );
    }
    if (!(bitsBudget >= 4 && bitsBudget <= 8)) {
      throw new QuantkitError(
        `--bits-budget is an average of 4- and 8-bit weights: a number in [4, 8], got ${bitsBudget}`,
      );
    }
  }
  return {
    keepFloat: keepFloat ?? 0,
    float16: float16Fallback ?? false,
    maxAccuracyDrop,
    bitsBudget,
  };
}
