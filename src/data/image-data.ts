/**
 * A folder of PNG/JPEG images feeding a model's one image input. Each image is read, decoded and
 * preprocessed when its batch is built, so memory holds one decoded image and one batch, never the
 * data set. Nothing is decoded when opening: a corrupt image is reported when reached.
 */
import { readFile } from 'node:fs/promises';
import { isQuantkitError, QuantkitError } from '../errors.js';
import { elementCount, type NdArray } from '../tensor/ndarray.js';
import { describeFsError } from './fs-errors.js';
import { decodeImage } from './image-decode.js';
import { planImages } from './image-plan.js';
import type { ModelInput } from './model-inputs.js';
import { preprocessImage } from './preprocess.js';
import type { PreprocessSpec } from './preprocess-spec.js';
import type { SampleData } from './sample-data.js';

export function openImages(
  files: readonly string[],
  input: ModelInput,
  spec: PreprocessSpec,
  specText: string,
  label: string,
): SampleData {
  const { transform, sampleShape } = planImages(spec, specText, input);
  const size = elementCount(sampleShape);
  const load = async (index: number): Promise<Record<string, NdArray>> => {
    const path = files[index];
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new QuantkitError(`cannot read ${label} image '${path}': ${describeFsError(e)}`);
    }
    const data = new Float32Array(size);
    try {
      preprocessImage(decodeImage(bytes), transform, data);
    } catch (e) {
      if (isQuantkitError(e)) throw new QuantkitError(`${label} image '${path}': ${e.message}`);
      throw e;
    }
    return { [input.name]: { dtype: 'float32', shape: [1, ...sampleShape], data } };
  };
  return {
    inputs: [{ name: input.name, dtype: 'float32', sampleShape, batched: true }],
    pieces: { count: files.length, load },
    constants: {},
    samples: files.length,
    complete: true,
  };
}
