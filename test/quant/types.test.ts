import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quantRange, symmetricZeroPoint, typeRange } from '../../src/quant/types.js';

test('type ranges', () => {
  assert.deepEqual(typeRange('int8'), { qmin: -128, qmax: 127 });
  assert.deepEqual(typeRange('uint8'), { qmin: 0, qmax: 255 });
  assert.deepEqual(typeRange('int16'), { qmin: -32768, qmax: 32767 });
  assert.deepEqual(typeRange('uint16'), { qmin: 0, qmax: 65535 });
  assert.deepEqual(typeRange('int4'), { qmin: -8, qmax: 7 });
  assert.deepEqual(typeRange('uint4'), { qmin: 0, qmax: 15 });
});

test('quantization ranges: full, symmetric restricted, reduce-range', () => {
  const cases: Array<[Parameters<typeof quantRange>, [number, number], number]> = [
    // [arguments], [qmin, qmax], symmetric zero point
    [['int8', {}], [-128, 127], 0],
    [['int8', { symmetric: true }], [-127, 127], 0],
    [['int8', { symmetric: true, fullRange: true }], [-128, 127], 0],
    [['uint8', {}], [0, 255], 128],
    [['uint8', { symmetric: true }], [1, 255], 128],
    [['uint8', { symmetric: true, fullRange: true }], [0, 255], 128],
    [['int8', { reduceRange: true }], [-64, 63], 0],
    [['int8', { reduceRange: true, symmetric: true }], [-63, 63], 0],
    [['uint8', { reduceRange: true }], [0, 127], 64],
    [['uint8', { reduceRange: true, symmetric: true }], [1, 127], 64],
    [['int16', { symmetric: true }], [-32767, 32767], 0],
    [['uint16', { symmetric: true }], [1, 65535], 32768],
    [['int4', { symmetric: true }], [-7, 7], 0],
    [['uint4', { symmetric: true }], [1, 15], 8],
    [['uint4', {}], [0, 15], 8],
  ];
  for (const [args, [qmin, qmax], z] of cases) {
    const range = quantRange(...args);
    assert.deepEqual(range, { qmin, qmax }, JSON.stringify(args));
    assert.ok(Object.is(symmetricZeroPoint(range), z), `zero point of ${JSON.stringify(args)}`);
  }
});
