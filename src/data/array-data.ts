/**
 * .npy/.npz data. A single file is read once and kept (batches are views of it); a folder is read one
 * file at a time on every pass, after a first pass at opening that checks each file and counts its
 * samples — so mistakes surface before calibration starts and the sample count is known up front.
 * Counting stops once `limit` samples are found: files past it are never read.
 */
import { QuantkitError } from '../errors.js';
import { formatShape } from '../onnx/value-info.js';
import type { NdArray } from '../tensor/ndarray.js';
import type { ModelInput } from './model-inputs.js';
import type { SampleData, SampleInput } from './sample-data.js';
import { matchArrays } from './match-arrays.js';
import { type FileSamples, readSampleFile, samplesOf } from './sample-file.js';

export async function openArrayFile(
  path: string,
  inputs: readonly ModelInput[],
  label: string,
): Promise<SampleData> {
  return wholeData(await readSampleFile(path, inputs, label), inputs);
}

/** Arrays held in memory (by input name), as the library's callers may already have them. */
export function openArrays(
  arrays: Record<string, NdArray>,
  inputs: readonly ModelInput[],
  label: string,
): SampleData {
  return wholeData(samplesOf(matchArrays(arrays, inputs, label), inputs, label), inputs);
}

/** Samples held whole in memory: one piece, batches are views of it. */
function wholeData(file: FileSamples, inputs: readonly ModelInput[]): SampleData {
  return {
    inputs: inputsOf(inputs, file),
    pieces: { count: 1, load: async () => file.batched },
    constants: file.constants,
    samples: file.samples,
    complete: true,
  };
}

export async function openArrayFolder(
  files: readonly string[],
  inputs: readonly ModelInput[],
  label: string,
  limit: number,
): Promise<SampleData> {
  const first = await readSampleFile(files[0], inputs, label);
  const layout = inputsOf(inputs, first);
  const counts = [first.samples];
  let samples = first.samples;
  while (samples < limit && counts.length < files.length) {
    const path = files[counts.length];
    const file = await readSampleFile(path, inputs, label);
    checkAlike(file, path, first, files[0], layout, label);
    counts.push(file.samples);
    samples += file.samples;
  }
  const load = async (index: number) => {
    const file = await readSampleFile(files[index], inputs, label);
    checkAlike(file, files[index], first, files[0], layout, label);
    if (file.samples !== counts[index]) {
      throw new QuantkitError(
        `${label} '${files[index]}' now holds ${file.samples} samples, ${counts[index]} when it was opened; ` +
          'do not change data files while they are read',
      );
    }
    return file.batched;
  };
  return {
    inputs: layout,
    pieces: { count: counts.length, load },
    constants: first.constants,
    samples,
    complete: counts.length === files.length,
  };
}

function inputsOf(inputs: readonly ModelInput[], file: FileSamples): SampleInput[] {
  return inputs.map(({ name }) => {
    const arr = file.batched[name] ?? file.constants[name];
    const batched = name in file.batched;
    return { name, dtype: arr.dtype, sampleShape: batched ? arr.shape.slice(1) : [], batched };
  });
}

/** Samples of one input must share a shape (a batch is one array); scalar inputs one value. */
function checkAlike(
  file: FileSamples,
  path: string,
  first: FileSamples,
  firstPath: string,
  layout: readonly SampleInput[],
  label: string,
): void {
  for (const input of layout) {
    if (input.batched) {
      const arr = file.batched[input.name];
      const shape = arr.shape.slice(1);
      if (arr.dtype !== input.dtype || !sameShape(shape, input.sampleShape)) {
        throw new QuantkitError(
          `${label} '${path}' for input '${input.name}': its samples are ${arr.dtype} ${formatShape(shape)}, ` +
            `those of '${firstPath}' are ${input.dtype} ${formatShape(input.sampleShape)}; ` +
            'every sample of an input must have one shape and type (pad or crop them to one size)',
        );
      }
    } else if (!sameValue(file.constants[input.name], first.constants[input.name])) {
      throw new QuantkitError(
        `${label} '${path}': scalar input '${input.name}' is ${file.constants[input.name].data[0]}, ` +
          `in '${firstPath}' it is ${first.constants[input.name].data[0]}; ` +
          'a scalar input is fed to every batch, so it must have one value across the folder',
      );
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function sameValue(a: NdArray, b: NdArray): boolean {
  return a.dtype === b.dtype && a.data[0] === b.data[0];
}
