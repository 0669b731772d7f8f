/**
 * Weight-only quantization of a model larger than the memory its process uses. A ~300 MB chain of
 * MatMuls (external data) goes through `quantkit quantize --mode weight-only` in a child process whose
 * V8 heap is capped at 64 MB. Weights live in ArrayBuffers, outside that cap, so the cap alone proves
 * little: the child's peak resident memory (VmHWM) is measured too, against the same command on a
 * two-layer model of the same layer shapes. Holding the float weights, or the quantized ones, would
 * make the peak grow with the number of layers; streaming keeps it flat. The output is then run in
 * ONNX Runtime and checked layer by layer against the float weights the model was made from.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import type { Model } from '../../src/onnx/model.js';
import { dequantizeNBits } from '../../src/passes/weight-only/nbits-layout.js';
import { runFile, withTempDir } from '../helpers/fixtures.js';
import {
  type ChainSpec,
  chainBytes,
  chainValue,
  chainWeight,
  layerShape,
  syntheticChain,
} from '../helpers/synthetic-chain.js';

const WORKER = join(import.meta.dirname, '..', '..', 'bench', 'cli-rss-worker.ts');
const LARGE: ChainSpec = { layers: 18, width: 1024, hidden: 4096 }; // 302 MB of float32 weights
const SMALL: ChainSpec = { ...LARGE, layers: 2 };
const BLOCK = 32;

/** Quantizes through the CLI in a child with a capped V8 heap; its JSON report and peak RSS. */
function quantizeInChild(input: string, output: string): { report: Record<string, unknown>; peak: number } {
  const args = ['quantize', input, '-o', output, '--mode', 'weight-only', '--external-data', '--json'];
  const r = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', WORKER, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const peak = Number(/PEAK_RSS (\d+)/.exec(r.stderr)?.[1]);
  assert.ok(peak > 0, `no peak RSS in: ${r.stderr}`);
  return { report: JSON.parse(r.stdout), peak };
}

function saved(dir: string, name: string, spec: ChainSpec): string {
  const path = join(dir, `${name}.onnx`);
  saveModel(syntheticChain(spec), path, { externalData: true });
  assert.equal(statSync(`${path}_data`).size, chainBytes(spec));
  return path;
}

/** Each MatMulNBits weight of the output dequantized, checked against its float original. */
function checkedWeights(model: Model, spec: ChainSpec): Float32Array[] {
  const nodes = model.graph.nodes.filter((n) => n.opType === 'MatMulNBits');
  assert.equal(nodes.length, spec.layers);
  return nodes.map((node, layer) => {
    const [k, n] = layerShape(spec, layer);
    assert.deepEqual([node.getInt('K', 0), node.getInt('N', 0), node.getInt('block_size', 0)], [k, n, BLOCK]);
    const [, b, scales, zeroPoints] = node.inputs.map((name) => model.graph.initializers.get(name));
    const shape = { k, n, bits: 4, blockSize: BLOCK };
    const w = dequantizeNBits(
      shape,
      b!.data() as Uint8Array,
      scales!.toFloat32(),
      zeroPoints?.data() as Uint8Array,
    );
    // Round to nearest: within half a step of the original, except where ONNX Runtime's signed-max
    // rule clips (a value of the sign opposite to the block's largest, beyond 7 steps): within one.
    const original = chainWeight(spec, layer);
    const blocks = Math.ceil(k / BLOCK);
    const s = scales!.toFloat32();
    for (let i = 0; i < w.length; i++) {
      const step = Math.abs(s[(i % n) * blocks + Math.floor(i / n / BLOCK)]);
      const limit = (Math.abs(original[i]) > 7.5 * step ? step : step / 2) * (1 + 1e-5);
      if (!(Math.abs(w[i] - original[i]) <= limit)) {
        assert.fail(`layer ${layer} element ${i}: ${w[i]} for ${original[i]}, step ${step}`);
      }
    }
    return w;
  });
}

/** x · W0 · W1 · … in float64. */
function chainReference(x: Float32Array, weights: Float32Array[], spec: ChainSpec): Float64Array {
  let h = Float64Array.from(x);
  weights.forEach((w, layer) => {
    const [k, n] = layerShape(spec, layer);
    const next = new Float64Array(n);
    for (let r = 0; r < k; r++) {
      const v = h[r];
      for (let c = 0, at = r * n; c < n; c++, at++) next[c] += v * w[at];
    }
    h = next;
  });
  return h;
}

describe('weight-only quantization of a model larger than its process memory', () => {
  it('streams a 300 MB model through the CLI with flat peak memory; ONNX Runtime runs the result', async () => {
    await withTempDir(async (dir) => {
      const small = quantizeInChild(saved(dir, 'small', SMALL), join(dir, 'small.q4.onnx'));
      const input = saved(dir, 'large', LARGE);
      const output = join(dir, 'large.q4.onnx');
      const large = quantizeInChild(input, output);

      assert.deepEqual(large.report.quantized, { MatMul: LARGE.layers });
      const streamed = (r: Record<string, unknown>) =>
        (r.notes as string[]).some((n) => n.includes('went to disk as soon as it was made'));
      assert.ok(streamed(large.report), 'the large model was streamed');
      assert.ok(!streamed(small.report), 'a model under 64 MB is quantized in memory');
      const bytes = large.report.bytes as { before: number; after: number };
      assert.ok(bytes.after < 0.16 * bytes.before, `${bytes.after} of ${bytes.before} bytes`);
      // 16 more layers (268 MB of float weights, 42 MB quantized) may not add more than a quarter
      // of their float size to the peak: what remains is the garbage collector's slack.
      const added = chainBytes(LARGE) - chainBytes(SMALL);
      const growth = large.peak - small.peak;
      assert.ok(
        growth < 0.25 * added,
        `peak RSS grew by ${(growth / 1e6).toFixed(0)} MB for ${(added / 1e6).toFixed(0)} MB more weights ` +
          `(${(small.peak / 1e6).toFixed(0)} → ${(large.peak / 1e6).toFixed(0)} MB)`,
      );
      assert.ok(large.peak < chainBytes(LARGE), 'the process held less than its weight file');

      const model = loadModel(output);
      try {
        const weights = checkedWeights(model, LARGE);
        const x = Float32Array.from({ length: LARGE.width }, (_, i) => chainValue(LARGE.layers, i, 1));
        const expected = chainReference(x, weights, LARGE);
        const got = (await runFile(output, { x: { dtype: 'float32', shape: [1, LARGE.width], data: x } }))[
          `h${LARGE.layers - 1}`
        ].data as Float32Array;
        let err = 0;
        let norm = 0;
        for (let i = 0; i < expected.length; i++) {
          err = Math.max(err, Math.abs(got[i] - expected[i]));
          norm = Math.max(norm, Math.abs(expected[i]));
        }
        assert.ok(err <= 1e-4 * norm, `max error ${err} against max |y| ${norm}`);
      } finally {
        model.dispose();
      }
    });
  });
});
