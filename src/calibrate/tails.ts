/**
 * The K largest and K smallest values of a stream, kept sorted in O(K) memory: enough to read any
 * percentile beyond 1 − K/N exactly. ONNX Runtime's TopK picks each batch's candidates inside the
 * session, so only 2K numbers per tensor and batch ever reach JavaScript.
 */
export class Tails {
  /** Largest values, descending. */
  private top: Float32Array = new Float32Array(0);
  /** Smallest values, ascending. */
  private bottom: Float32Array = new Float32Array(0);

  constructor(readonly k: number) {}

  /** Adds a batch's largest values (descending) and smallest values (ascending). */
  add(top: Float32Array, bottom: Float32Array): void {
    this.top = mergeSorted(this.top, top, this.k, (a, b) => a >= b);
    this.bottom = mergeSorted(this.bottom, bottom, this.k, (a, b) => a <= b);
  }

  /** The r-th largest value (1-based), or undefined beyond what is kept. */
  largest(r: number): number | undefined {
    return r >= 1 && r <= this.top.length ? this.top[r - 1] : undefined;
  }

  smallest(r: number): number | undefined {
    return r >= 1 && r <= this.bottom.length ? this.bottom[r - 1] : undefined;
  }

  /** The r-th largest |x|: the magnitudes above it are all among the kept tails. */
  largestMagnitude(r: number): number | undefined {
    if (r < 1 || r > this.k) return undefined;
    let i = 0;
    let j = 0;
    let v = 0;
    for (let n = 0; n < r; n++) {
      const a = i < this.top.length ? Math.abs(this.top[i]) : -1;
      const b = j < this.bottom.length ? Math.abs(this.bottom[j]) : -1;
      if (a < 0 && b < 0) return undefined;
      if (a >= b) {
        v = a;
        i++;
      } else {
        v = b;
        j++;
      }
    }
    return v;
  }
}

function mergeSorted(
  a: Float32Array,
  b: Float32Array,
  k: number,
  before: (x: number, y: number) => boolean,
): Float32Array {
  const out = new Float32Array(Math.min(k, a.length + b.length));
  let i = 0;
  let j = 0;
  for (let n = 0; n < out.length; n++) {
    if (j >= b.length || (i < a.length && before(a[i], b[j]))) out[n] = a[i++];
    else out[n] = b[j++];
  }
  return out;
}
