// RTN against an independent fake-quant reference (float64 per block), against quantkit's own
// QuantizeLinear math (src/quant) where the bit width has a QuantType, and the signed-max rule's
// defining property.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dequantizeBlocks } from '../../src/algorithms/blocked-weight.js';
import { rtn, type RtnRule } from '../../src/algorithms/rtn.js';
import { computeQParams } from '../../src/quant/qparams.js';
import { quantize } from '../../src/quant/quantize.js';
import { rmse, weightWithOutliers } from './weights.js';

/**
 * Quantize-dequantize of one block in float64, straight from DOMAIN.md §1 (and ONNX Runtime's
 * MatMulNBits rule for signed-max); only the scale is rounded to float32, as a model stores it.
 */
function fakeQuantBlock(values: number[], rule: RtnRule, bits: number): number[] {
  const qmax = 2 ** bits - 1;
  const half = 2 ** (bits - 1);
  let scale: number;
  let zero: number;
  if (rule === 'asymmetric') {
    const lo = Math.min(0, ...values);
    const hi = Math.max(0, ...values);
    scale = Math.fround((hi - lo) / qmax) || 1;
    zero = Math.min(qmax, Math.max(0, roundEven(-lo / scale)));
  } else {
    const extreme = values.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
    scale = Math.fround(rule === 'signed-max' ? extreme / -half : Math.abs(extreme) / (half - 1)) || 1;
    zero = half;
  }
  return values.map((v) => {
    const q = Math.min(qmax, Math.max(0, roundEven(v / scale) + zero));
    return Math.fround((q - zero) * scale);
  });
}

function roundEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function fakeQuant(w: Float32Array, k: number, n: number, bits: number, blockSize: number, rule: RtnRule) {
  const out = new Float32Array(k * n);
  for (let c = 0; c < n; c++) {
    for (let start = 0; start < k; start += blockSize) {
      const rows = Array.from({ length: Math.min(blockSize, k - start) }, (_, i) => start + i);
      const deq = fakeQuantBlock(
        rows.map((r) => w[r * n + c]),
        rule,
        bits,
      );
      rows.forEach((r, i) => (out[r * n + c] = deq[i]));
    }
  }
  return out;
}

const K = 200; // not a multiple of any block size: every column ends with a short block
const N = 24;

function testWeight(): Float32Array {
  const w = weightWithOutliers(K, N, 7);
  for (let r = 0; r < K; r++) w[r * N + 3] = 0; // an all-zero column: scale 1, exact zeros
  return w;
}

describe('rtn', () => {
  for (const rule of ['asymmetric', 'restricted', 'signed-max'] as const) {
    for (const bits of [2, 4, 8]) {
      it(`${rule}, ${bits}-bit: equals a float64 fake-quant per block`, () => {
        const w = testWeight();
        for (const blockSize of [16, 32, 64, 128]) {
          const actual = dequantizeBlocks(rtn(w, { k: K, n: N, bits, blockSize }, rule));
          assert.deepEqual(actual, fakeQuant(w, K, N, bits, blockSize, rule), `block size ${blockSize}`);
        }
      });
    }
  }

  for (const [rule, symmetric] of [
    ['asymmetric', false],
    ['restricted', true],
  ] as const) {
    it(`${rule}: the codes and parameters src/quant computes for uint4/uint8 blocks along axis 0`, () => {
      const w = testWeight();
      for (const bits of [4, 8]) {
        const type = bits === 4 ? 'uint4' : 'uint8';
        const params = computeQParams(
          'w',
          w,
          [K, N],
          { kind: 'block', axis: 0, blockSize: 32 },
          { type, symmetric },
        );
        const codes = quantize(w, [K, N], params);
        const q = rtn(w, { k: K, n: N, bits, blockSize: 32 }, rule);
        for (let c = 0; c < N; c++) {
          for (let b = 0; b < q.blocks; b++) {
            assert.equal(q.scales[c * q.blocks + b], params.scale[b * N + c]);
            assert.equal(q.zeroPoints[c * q.blocks + b], params.zeroPoint[b * N + c]);
          }
          for (let r = 0; r < K; r++) assert.equal(q.codes[c * K + r], codes[r * N + c]);
        }
      }
    });
  }

  it('signed-max: each block’s largest-magnitude element is exact, on the extreme code', () => {
    const w = testWeight();
    const q = rtn(w, { k: K, n: N, bits: 4, blockSize: 32 }, 'signed-max');
    const deq = dequantizeBlocks(q);
    const codes = new Set(q.codes);
    assert.equal(codes.size, 16, 'all 16 codes in use');
    for (let c = 0; c < N; c++) {
      for (let start = 0; start < K; start += 32) {
        let at = start;
        for (let r = start; r < Math.min(K, start + 32); r++)
          if (Math.abs(w[r * N + c]) > Math.abs(w[at * N + c])) at = r;
        assert.equal(deq[at * N + c], w[at * N + c]);
        if (w[at * N + c] !== 0) assert.equal(q.codes[c * K + at], 0);
      }
    }
  });

  it('on a weight with outliers, at 4 bits: asymmetric < signed-max < restricted in error', () => {
    const w = weightWithOutliers(512, 64, 3);
    const err = (rule: RtnRule) =>
      rmse(w, dequantizeBlocks(rtn(w, { k: 512, n: 64, bits: 4, blockSize: 32 }, rule)));
    assert.ok(err('asymmetric') < err('signed-max'));
    assert.ok(err('signed-max') < err('restricted'));
  });
});
