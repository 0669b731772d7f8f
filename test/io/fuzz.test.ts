/**
 * Mutated copies of real models must either load or fail with a QuantkitError — never hang, never
 * throw anything else — and a model that loads must survive being summarized and re-encoded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isQuantkitError } from '../../src/errors.js';
import { loadModel } from '../../src/io/model-file.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { summarizeModel } from '../../src/onnx/summary.js';
import { createRng, type Rng } from '../../src/tensor/random.js';
import { modelPath } from '../helpers/fixtures.js';

const CASES = 400;

function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  const b = Uint8Array.from(src);
  const pick = () => Math.floor(rng.nextFloat() * b.length);
  switch (Math.floor(rng.nextFloat() * 5)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + Math.floor(rng.nextFloat() * 8); i < n; i++)
        b[pick()] = Math.floor(rng.nextFloat() * 256);
      return b;
    case 1: // truncate
      return b.subarray(0, pick());
    case 2: {
      // splice a range of the file elsewhere (duplicated fields, shifted length prefixes)
      const a = pick();
      const len = Math.floor(rng.nextFloat() * 64);
      const at = pick();
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(a, a + len), at);
      out.set(b.subarray(at), at + Math.min(len, b.length - a));
      return out.subarray(0, b.length + Math.min(len, b.length - a));
    }
    case 3: // make a length prefix huge: set high bits in a run of bytes
      for (let i = pick(), n = i + 5; i < n && i < b.length; i++) b[i] |= 0x80;
      return b;
    default: // zero a run
      b.fill(0, pick(), pick());
      return b;
  }
}

describe('loader fuzzing', () => {
  for (const name of ['cnn_bn', 'control_flow', 'dtypes']) {
    it(`${name}: ${CASES} mutated copies load or fail cleanly`, () => {
      const original = readFileSync(modelPath(name));
      const rng = createRng(0x5eed + name.length);
      const start = performance.now();
      let loaded = 0;
      for (let i = 0; i < CASES; i++) {
        const bytes = mutate(original, rng);
        try {
          const m = loadModel(bytes);
          summarizeModel(m);
          encodeModel(m);
          for (const g of m.graph.graphs())
            for (const t of g.initializers.values()) if (t.dtype !== 'string') t.data();
          loaded++;
        } catch (e) {
          if (!isQuantkitError(e)) {
            assert.fail(`case ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? e}`);
          }
        }
      }
      // Each case is microseconds of work; a hang would show as a timeout long before this.
      assert.ok(performance.now() - start < 20_000);
      assert.ok(loaded < CASES, 'some mutations must be rejected');
    });
  }
});
