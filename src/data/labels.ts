/**
 * Class labels for `quantkit eval --labels`: a .npy of class ids ([N] or [N, 1]; integer, bool, or
 * float holding whole numbers) or of one-hot / score rows ([N, classes], reduced by argmax, the first
 * maximum winning a tie). Label i belongs to the i-th sample the data yields.
 */
import { QuantkitError } from '../errors.js';
import { formatShape } from '../onnx/value-info.js';
import { dtypeInfo } from '../tensor/dtype.js';
import { float16ArrayToFloat32 } from '../tensor/float16.js';
import type { NdArray } from '../tensor/ndarray.js';
import { readNpy } from './npy-file.js';
import type { SampleSource } from './sample-source.js';

export async function readLabels(
  path: string,
  data?: Pick<SampleSource, 'path' | 'sampleCount' | 'totalSamples'>,
): Promise<Int32Array> {
  const arr = await readNpy(path);
  const where = `labels '${path}'`;
  const values = asNumbers(arr, where);
  const { shape } = arr;
  let ids: Int32Array;
  if (shape.length === 1 || (shape.length === 2 && shape[1] === 1)) {
    ids = classIds(values, where);
  } else if (shape.length === 2 && shape[1] > 1) {
    ids = argmaxRows(values, shape[0], shape[1]);
  } else {
    throw new QuantkitError(
      `${where} have shape ${formatShape(shape)}; give class ids [N] or one-hot rows [N, classes]`,
    );
  }
  if (data) {
    const expected = data.totalSamples;
    if (expected !== undefined ? ids.length !== expected : ids.length < data.sampleCount) {
      throw new QuantkitError(
        `${where} hold ${ids.length} labels, the data '${data.path}' has ${expected ?? `at least ${data.sampleCount}`} samples;` +
          ' give one label per sample, in the order of the data',
      );
    }
  }
  return ids;
}

function asNumbers(arr: NdArray, where: string): Float64Array {
  const { kind } = dtypeInfo(arr.dtype);
  if (arr.dtype === 'float16') return Float64Array.from(float16ArrayToFloat32(arr.data as Uint16Array));
  if (
    arr.dtype === 'float32' ||
    arr.dtype === 'float64' ||
    kind === 'int' ||
    kind === 'uint' ||
    kind === 'bool'
  ) {
    const out = new Float64Array(arr.data.length);
    for (let i = 0; i < out.length; i++) out[i] = Number(arr.data[i]);
    return out;
  }
  throw new QuantkitError(
    `${where} are ${arr.dtype}; give integer class ids (or float32/float64 one-hot rows)`,
  );
}

function classIds(values: Float64Array, where: string): Int32Array {
  const ids = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new QuantkitError(
        `${where}: label ${i} is ${v}; class ids must be whole numbers from 0 to 2^31 - 1`,
      );
    }
    ids[i] = v;
  }
  return ids;
}

function argmaxRows(values: Float64Array, rows: number, classes: number): Int32Array {
  const ids = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c] > values[r * classes + best]) best = c;
    ids[r] = best;
  }
  return ids;
}
