/**
 * Pairs the arrays of a data file with the model inputs they feed: by name, or — when the model takes
 * one input and the file holds one array — whatever the array is called (np.save/np.savez without
 * keywords name it 'arr_0').
 */
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';
import { inputNames, type ModelInput } from './model-inputs.js';

export function matchArrays(
  arrays: Record<string, NdArray>,
  inputs: readonly ModelInput[],
  where: string,
): Record<string, NdArray> {
  const keys = Object.keys(arrays);
  if (inputs.length === 1 && keys.length === 1) return { [inputs[0].name]: arrays[keys[0]] };
  const missing = inputs.filter((i) => !Object.hasOwn(arrays, i.name));
  const extra = keys.filter((k) => !inputs.some((i) => i.name === k));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [
      missing.length > 0 ? `no array for ${inputNames(missing)}` : '',
      extra.length > 0 ? `arrays the model has no input for: ${extra.map((k) => `'${k}'`).join(', ')}` : '',
    ].filter(Boolean);
    throw new QuantkitError(
      `${where} does not match the model's inputs (${inputNames(inputs)}): ${problems.join('; ')}; ` +
        'name each array after the input it feeds',
    );
  }
  return Object.fromEntries(inputs.map((i) => [i.name, arrays[i.name]]));
}

/** A .npy file holds one array, so it can only feed a model with one input. */
export function matchSingleArray(
  arr: NdArray,
  inputs: readonly ModelInput[],
  where: string,
): Record<string, NdArray> {
  if (inputs.length !== 1) {
    throw new QuantkitError(
      `${where} holds one array, but the model has ${inputs.length} inputs (${inputNames(inputs)}); ` +
        'give a .npz with one array per input, named after it',
    );
  }
  return { [inputs[0].name]: arr };
}
