/**
 * How an array read from a data file holds samples of one model input.
 *
 * An array of the model input's rank holds samples along its first axis; an array of one rank less is
 * ONE sample (what `np.save('0001.npy', image)` writes). Only one of the two can match the model's
 * rank, so the rule is never ambiguous. A rank-0 model input has no sample axis: its value is fed
 * unchanged with every batch. The first (batch) dimension is never checked here: a fixed batch size
 * decides how batches are cut, not how many samples a file may hold.
 */
import { QuantkitError } from '../errors.js';
import { formatShape } from '../onnx/value-info.js';
import type { NdArray } from '../tensor/ndarray.js';
import { formatDims, type ModelInput } from './model-inputs.js';

/** `arr` with a leading sample axis (a view when one is added), or `arr` itself for a rank-0 input. */
export function asSamples(arr: NdArray, input: ModelInput, where: string): NdArray {
  const { dtype, shape } = input;
  const fail = (advice: string) =>
    new QuantkitError(
      `${where} for input '${input.name}': the model expects ${dtype ?? 'any type'} ${formatDims(shape)}, ` +
        `the file has ${arr.dtype} ${formatShape(arr.shape)}; ${advice}`,
    );
  if (dtype !== undefined && arr.dtype !== dtype) throw fail(conversionAdvice(arr.dtype, dtype));
  if (shape === undefined) {
    if (arr.shape.length === 0) throw fail('a scalar holds no samples; put them along a first axis');
    return arr;
  }
  if (shape.length === 0) {
    if (arr.shape.length !== 0) throw fail('give one value (shape []), which every batch receives');
    return arr;
  }
  const sampleDims = shape.slice(1);
  const oneSample = formatDims(sampleDims);
  const manySamples = oneSample.replace('[', sampleDims.length > 0 ? '[N, ' : '[N');
  const layoutAdvice = `give samples along the first axis (${manySamples}) or one sample per file (${oneSample})`;
  const one = arr.shape.length === sampleDims.length;
  if (!one && arr.shape.length !== shape.length) throw fail(layoutAdvice);
  const dims = one ? arr.shape : arr.shape.slice(1);
  sampleDims.forEach((d, i) => {
    if (typeof d === 'number' && d !== dims[i]) throw fail(layoutAdvice);
  });
  return one ? { dtype: arr.dtype, shape: [1, ...arr.shape], data: arr.data } : arr;
}

function conversionAdvice(from: string, to: string): string {
  const numpy = to === 'bool' ? 'bool_' : to;
  if (to.startsWith('float') && (from.startsWith('uint') || from.startsWith('int'))) {
    return `convert it to ${to} the way the model's training data was (e.g. numpy: (x / 255).astype(np.${numpy}) for 8-bit pixels)`;
  }
  return `convert it to ${to} (numpy: x.astype(np.${numpy}))`;
}
