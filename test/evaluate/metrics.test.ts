import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuantkitError } from '../../src/errors.js';
import { asFloat32 } from '../../src/evaluate/as-float32.js';
import { MetricsAccumulator } from '../../src/evaluate/metrics.js';
import { ErrorAccumulator } from '../../src/evaluate/output-error.js';
import { percentile, summarizeDurations } from '../../src/evaluate/percentile.js';
import { compare } from '../../src/evaluate/result.js';
import { FirstSamples } from '../../src/evaluate/sample-batch.js';
import { classifierLayout, countMatches, top1 } from '../../src/evaluate/top1.js';
import type { NdArray } from '../../src/tensor/ndarray.js';

const f32 = (shape: number[], values: number[]): NdArray => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});

describe('top-1', () => {
  it('argmax per row; ties go to the first index; NaN never wins', () => {
    const scores = Float32Array.from([1, 3, 2, 5, 5, 0, NaN, 1, 0, -Infinity, -Infinity, -Infinity]);
    assert.deepEqual([...top1(scores, { rows: 4, classes: 3 })], [1, 0, 1, 0]);
  });

  it('one score per sample is a probability of class 1, thresholded above 0.5', () => {
    const scores = Float32Array.from([0.2, 0.5, 0.5001, 0.9]);
    assert.deepEqual([...top1(scores, classifierLayout([4, 1], 'x'))], [0, 0, 1, 1]);
    assert.deepEqual([...top1(scores, classifierLayout([4], 'x'))], [0, 0, 1, 1]);
  });

  it('refuses outputs that are not [samples, classes]', () => {
    assert.throws(() => classifierLayout([2, 3, 4], "output 'y'"), /output 'y' has shape \[2, 3, 4\]/);
    assert.throws(() => classifierLayout([], "output 'y'"), QuantkitError);
  });

  it('counts matching classes', () => {
    assert.equal(countMatches(Int32Array.from([1, 2, 3, 4]), Int32Array.from([1, 0, 3, 0])), 2);
  });
});

describe('output error', () => {
  it('SQNR, cosine and max-abs error of a hand-computed pair', () => {
    // x = [3, 4], y = [3, 4.5]: Σx² = 25, Σ(x−y)² = 0.25 → 20 dB; Σxy = 27, Σy² = 29.25.
    const acc = new ErrorAccumulator();
    acc.add(Float32Array.from([3, 4]), Float32Array.from([3, 4.5]));
    const r = acc.result();
    assert.equal(r.sqnrDb, 20);
    assert.equal(r.cosine, 27 / Math.sqrt(25 * 29.25));
    assert.equal(r.maxAbsError, 0.5);
    assert.equal(r.outputsIdentical, false);
  });

  it('a sine with ±0.01 noise: 10·log10(0.5 / 1e-4) ≈ 36.99 dB, whatever the batching', () => {
    const n = 4000; // 40 whole periods, so Σ sin² = n/2 exactly in theory
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = Math.sin((2 * Math.PI * i) / 100);
      y[i] = x[i] + (i % 2 === 0 ? 0.01 : -0.01);
    }
    const whole = new ErrorAccumulator();
    whole.add(x, y);
    const split = new ErrorAccumulator();
    for (let i = 0; i < n; i += 300) split.add(x.subarray(i, i + 300), y.subarray(i, i + 300));
    const expected = 10 * Math.log10(0.5 / 1e-4);
    assert.ok(Math.abs(whole.result().sqnrDb - expected) < 1e-3, `${whole.result().sqnrDb}`);
    assert.ok(Math.abs(split.result().sqnrDb - whole.result().sqnrDb) < 1e-9);
    assert.ok(Math.abs(whole.result().maxAbsError - 0.01) < 1e-6);
  });

  it('merging pools the sums (two outputs count as one signal)', () => {
    const a = new ErrorAccumulator();
    a.add(Float32Array.from([3]), Float32Array.from([3]));
    const b = new ErrorAccumulator();
    b.add(Float32Array.from([4]), Float32Array.from([4.5]));
    const total = new ErrorAccumulator();
    total.merge(a);
    total.merge(b);
    assert.equal(total.result().sqnrDb, 20);
    assert.equal(total.result().maxAbsError, 0.5);
    assert.equal(total.count, 2);
    assert.equal(a.result().sqnrDb, Infinity);
  });

  it('identical outputs: SQNR Infinity, cosine 1, flagged; all zeros too', () => {
    for (const v of [
      [1, -2, 3],
      [0, 0, 0],
    ]) {
      const acc = new ErrorAccumulator();
      acc.add(Float32Array.from(v), Float32Array.from(v));
      assert.deepEqual(acc.result(), { sqnrDb: Infinity, cosine: 1, maxAbsError: 0, outputsIdentical: true });
    }
    const zero = new ErrorAccumulator();
    zero.add(Float32Array.from([0, 0]), Float32Array.from([1, 0]));
    assert.equal(zero.result().cosine, 0);
    assert.equal(zero.result().sqnrDb, -Infinity);
  });

  it('the same infinity or NaN in both outputs is no error; an infinity only in one is', () => {
    const same = new ErrorAccumulator();
    same.add(Float32Array.from([Infinity, NaN, 2]), Float32Array.from([Infinity, NaN, 2]));
    assert.deepEqual(same.result(), { sqnrDb: Infinity, cosine: 1, maxAbsError: 0, outputsIdentical: true });
    const overflow = new ErrorAccumulator();
    overflow.add(Float32Array.from([1, 2]), Float32Array.from([Infinity, 2]));
    assert.equal(overflow.result().sqnrDb, -Infinity);
    assert.equal(overflow.result().maxAbsError, Infinity);
    assert.equal(overflow.result().outputsIdentical, false);
  });

  it('a NaN output makes every figure NaN, even after finite batches', () => {
    const acc = new ErrorAccumulator();
    acc.add(Float32Array.from([1, 2]), Float32Array.from([NaN, 2]));
    acc.add(Float32Array.from([1]), Float32Array.from([5]));
    const r = acc.result();
    assert.ok(Number.isNaN(r.sqnrDb) && Number.isNaN(r.cosine) && Number.isNaN(r.maxAbsError));
    assert.equal(r.outputsIdentical, false);
  });
});

describe('asFloat32', () => {
  it('decodes float16 bits and converts integers, sharing float32 data', () => {
    const half: NdArray = { dtype: 'float16', shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x3555]) };
    assert.deepEqual([...asFloat32(half, 'h')], [1, -2, 0.333251953125]);
    const big: NdArray = { dtype: 'int64', shape: [2], data: BigInt64Array.from([3n, -1n]) };
    assert.deepEqual([...asFloat32(big, 'b')], [3, -1]);
    const f = f32([2], [1, 2]);
    assert.equal(asFloat32(f, 'f'), f.data);
    const c: NdArray = { dtype: 'complex64', shape: [1], data: new Float32Array(2) };
    assert.throws(() => asFloat32(c, "output 'c'"), /output 'c' is complex64/);
  });
});

describe('durations', () => {
  it('median and p90 interpolate between ranks as numpy does', () => {
    assert.deepEqual(summarizeDurations([5, 1, 3]), { runs: 3, median: 3, p90: 4.6 });
    const s = summarizeDurations([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert.equal(s.median, 5.5);
    assert.ok(Math.abs(s.p90 - 9.1) < 1e-12);
    assert.equal(percentile(Float64Array.from([2]), 90), 2);
  });
});

describe('comparison', () => {
  it('size ratio, accuracy delta, and the speedup measured by the caller', () => {
    const c = compare(
      { bytes: 25, accuracy: 0.9 },
      { bytes: 100, accuracy: 0.91 },
      { speedup: 2, speedupFrom: 'cpu' },
    );
    assert.equal(c.sizeRatio, 0.25);
    assert.ok(Math.abs(c.accuracyDelta! + 0.01) < 1e-12);
    assert.equal(c.speedup, 2);
    assert.equal(c.speedupFrom, 'cpu');
    assert.deepEqual(compare({ bytes: 2 }, { bytes: 1 }), { sizeRatio: 2 });
  });
});

describe('the latency batch', () => {
  const rows = (start: number, n: number): NdArray => ({
    dtype: 'float32',
    shape: [n, 2],
    data: Float32Array.from({ length: 2 * n }, (_, i) => start * 2 + i),
  });

  it('keeps copies of the first samples across batches', () => {
    const first = new FirstSamples(3);
    const a = rows(0, 2);
    first.add({ x: a, flag: { dtype: 'bool', shape: [], data: Uint8Array.from([1]) } });
    first.add({ x: rows(2, 2), flag: { dtype: 'bool', shape: [], data: Uint8Array.from([1]) } });
    (a.data as Float32Array).fill(-1); // a source reusing its buffer must not change what was kept
    const b = first.batch();
    assert.deepEqual(b.x.shape, [3, 2]);
    assert.deepEqual([...b.x.data], [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(b.flag.shape, []);
  });

  it('repeats the samples when the data has fewer than the batch', () => {
    const first = new FirstSamples(5);
    first.add({ x: rows(0, 2) });
    assert.deepEqual([...first.batch().x.data], [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
  });
});

describe('metrics over streamed batches', () => {
  // Four samples, three classes. Model picks 1, 0, 2, 2; reference 1, 0, 2, 1; labels 1, 2, 2, 1.
  const model = [0, 9, 1, 5, 0, 0, 0, 1, 2, 0, 0, 3];
  const reference = [0, 9, 1, 5, 0, 0, 0, 1, 2, 0, 3, 0];
  const labels = Int32Array.from([1, 2, 2, 1]);

  const feed = (acc: MetricsAccumulator, split: number) => {
    for (const [start, end] of [
      [0, split],
      [split, 4],
    ]) {
      acc.add(
        end - start,
        { y: f32([end - start, 3], model.slice(start * 3, end * 3)) },
        { y: f32([end - start, 3], reference.slice(start * 3, end * 3)) },
      );
    }
  };

  it('accuracy, agreement and the reference accuracy, the same for any batching', () => {
    for (const split of [1, 3]) {
      const acc = new MetricsAccumulator({ output: 'y', labels, reference: true });
      feed(acc, split);
      const m = acc.result();
      assert.equal(m.samples, 4);
      assert.equal(m.accuracy, 2 / 4);
      assert.equal(m.referenceAccuracy, 3 / 4);
      assert.equal(m.agreement, 3 / 4);
      // Only the last sample differs: x = [0, 3, 0], y = [0, 0, 3] against Σx² = 81+1+25+1+4+9.
      assert.equal(m.sqnrDb, 10 * Math.log10(121 / 18));
      assert.equal(m.outputs!.y.maxAbsError, 3);
    }
  });

  it('refuses labels that do not match the number of samples', () => {
    const few = new MetricsAccumulator({ output: 'y', labels: labels.subarray(0, 3), reference: true });
    assert.throws(() => feed(few, 2), /the labels hold 3 samples, but the data has more/);
    const many = new MetricsAccumulator({
      output: 'y',
      labels: Int32Array.from([1, 2, 2, 1, 0]),
      reference: true,
    });
    feed(many, 2);
    assert.throws(() => many.result(), /the labels hold 5 samples, but the data has 4/);
  });

  it('names the output when the reference lacks it or its shape differs', () => {
    const acc = new MetricsAccumulator({ output: 'y', reference: true });
    assert.throws(
      () => acc.add(1, { y: f32([1, 2], [0, 1]), z: f32([1], [0]) }, { y: f32([1, 2], [0, 1]) }),
      /the reference model has no output 'z'/,
    );
    assert.throws(
      () => acc.add(1, { y: f32([1, 2], [0, 1]) }, { y: f32([2, 1], [0, 1]) }),
      /output 'y' is \[1, 2\] from the model but \[2, 1\] from the reference/,
    );
  });

  it('no data is an error, not a division by zero', () => {
    assert.throws(() => new MetricsAccumulator({ output: 'y', reference: false }).result(), /no samples/);
  });
});
