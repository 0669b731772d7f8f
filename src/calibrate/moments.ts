/**
 * Exact aggregates of a stream of activation values, in constant memory: what MinMax calibration needs,
 * what ACIQ fits its distributions with, and the NaN/Inf counts a calibration report must show.
 */

export class Moments {
  /** Finite values seen. NaN and ±Inf are counted below and otherwise ignored. */
  count = 0;
  /** Smallest finite value; +Infinity until one is seen. */
  min = Infinity;
  /** Largest finite value; -Infinity until one is seen. */
  max = -Infinity;
  /** Σx, Σx², Σ|x| over the finite values, in float64. */
  sum = 0;
  sumSquares = 0;
  sumAbs = 0;
  nanCount = 0;
  /** Values that were +Infinity or -Infinity. */
  infCount = 0;

  /** max |x| over the finite values, 0 before any. */
  get maxAbs(): number {
    return this.count === 0 ? 0 : Math.max(-this.min, this.max);
  }

  add(other: Moments): void {
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.sum += other.sum;
    this.sumSquares += other.sumSquares;
    this.sumAbs += other.sumAbs;
    this.nanCount += other.nanCount;
    this.infCount += other.infCount;
  }
}

// min and max compare order keys: the float32 bits as an int32 with the magnitude bits of negative
// values flipped, which sorts like the values (and maps back the same way). V8's Math.min/max on
// floats branch on equal operands (to order -0 and 0), a misprediction per value when data piles up at
// its minimum (ReLU outputs: half zeros), and float comparisons are slower still; integer ones stay
// fast on any data. Loops computing them: key = bits ^ ((bits >> 31) & 0x7fffffff).
export const NO_LOW_KEY = 0x7fffffff;
export const NO_HIGH_KEY = -0x80000000;
const keyBits = new Int32Array(1);
const keyFloat = new Float32Array(keyBits.buffer);

function valueOfKey(key: number): number {
  keyBits[0] = key ^ ((key >> 31) & 0x7fffffff);
  // + 0 turns -0 into 0.
  return keyFloat[0] + 0;
}

/** The float32 bits of `data`, for order keys. */
export function bitsOf(data: Float32Array): Int32Array {
  return new Int32Array(data.buffer, data.byteOffset, data.length);
}

/** Overwrites `out` with the aggregates of one batch. */
export function scanBatch(data: Float32Array, out: Moments): void {
  const bits = bitsOf(data);
  let lowKey = NO_LOW_KEY;
  let highKey = NO_HIGH_KEY;
  let sum = 0;
  let sumSquares = 0;
  let sumAbs = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const b = bits[i];
    const key = b ^ ((b >> 31) & 0x7fffffff);
    if (key < lowKey) lowKey = key;
    if (key > highKey) highKey = key;
    sum += v;
    sumSquares += v * v;
    sumAbs += Math.abs(v);
  }
  finishScan(data, out, lowKey, highKey, sum, sumSquares, sumAbs);
}

/** Stores what a loop over every value of `data` accumulated, as `out`. */
export function finishScan(
  data: Float32Array,
  out: Moments,
  lowKey: number,
  highKey: number,
  sum: number,
  sumSquares: number,
  sumAbs: number,
): void {
  // A NaN or ±Inf anywhere makes Σx² non-finite, and squares of float32 values cannot overflow float64:
  // the all-finite case needs no per-value test.
  if (sumSquares - sumSquares !== 0) {
    scanWithNonFinite(data, out);
    return;
  }
  out.count = data.length;
  out.min = data.length > 0 ? valueOfKey(lowKey) : Infinity;
  out.max = data.length > 0 ? valueOfKey(highKey) : -Infinity;
  out.sum = sum;
  out.sumSquares = sumSquares;
  out.sumAbs = sumAbs;
  out.nanCount = 0;
  out.infCount = 0;
}

function scanWithNonFinite(data: Float32Array, out: Moments): void {
  let count = 0;
  let nanCount = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  let sumAbs = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      if (v !== v) nanCount++;
      continue;
    }
    count++;
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sumSquares += v * v;
    sumAbs += Math.abs(v);
  }
  out.count = count;
  out.min = min;
  out.max = max;
  out.sum = sum;
  out.sumSquares = sumSquares;
  out.sumAbs = sumAbs;
  out.nanCount = nanCount;
  out.infCount = data.length - count - nanCount;
}
