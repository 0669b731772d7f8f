/** One .npy/.npz data file read and checked against the model's inputs. */
import { QuantkitError } from '../errors.js';
import type { NdArray } from '../tensor/ndarray.js';
import { asSamples } from './input-samples.js';
import { matchArrays, matchSingleArray } from './match-arrays.js';
import type { ModelInput } from './model-inputs.js';
import { readNpy, readNpz } from './npy-file.js';

export interface FileSamples {
  /** Inputs with a sample axis, each holding `samples` rows. */
  batched: Record<string, NdArray>;
  /** Rank-0 inputs: one value, given with every batch. */
  constants: Record<string, NdArray>;
  samples: number;
}

/** `label` says what the data is for ('calibration data'); errors start with it and the file name. */
export async function readSampleFile(
  path: string,
  inputs: readonly ModelInput[],
  label: string,
): Promise<FileSamples> {
  const where = `${label} '${path}'`;
  const arrays = path.toLowerCase().endsWith('.npz')
    ? matchArrays(await readNpz(path), inputs, where)
    : matchSingleArray(await readNpy(path), inputs, where);
  return samplesOf(arrays, inputs, where);
}

/** Arrays already matched to the inputs, checked and split into batched and rank-0 ones. */
export function samplesOf(
  arrays: Record<string, NdArray>,
  inputs: readonly ModelInput[],
  where: string,
): FileSamples {
  const batched: Record<string, NdArray> = {};
  const constants: Record<string, NdArray> = {};
  let samples: number | undefined;
  let first = '';
  for (const input of inputs) {
    const arr = asSamples(arrays[input.name], input, where);
    if (arr.shape.length === 0) {
      constants[input.name] = arr;
      continue;
    }
    batched[input.name] = arr;
    if (samples === undefined) {
      samples = arr.shape[0];
      first = input.name;
    } else if (arr.shape[0] !== samples) {
      throw new QuantkitError(
        `${where}: input '${input.name}' has ${arr.shape[0]} samples, '${first}' has ${samples}; ` +
          'every array must hold the same number of samples',
      );
    }
  }
  if (samples === undefined) {
    throw new QuantkitError(`${where}: every model input is a scalar, so there are no samples to batch`);
  }
  return { batched, constants, samples };
}
