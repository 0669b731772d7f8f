import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/io/model-file.js';
import { summarizeModel } from '../../src/onnx/summary.js';
import { runCli } from '../helpers/cli.js';
import { MODELS, modelPath, withTempDir } from '../helpers/fixtures.js';

const FIXTURES = [
  'cnn_bn',
  'mlp',
  'transformer',
  'transformer_opset17',
  'control_flow',
  'subgraph_scan',
  'dtypes',
  'dtypes_int4',
  'external/model',
  'external_multi/model',
];

/** Written by scripts/fixtures with the onnx Python package: an independent count of the same files. */
function expected(name: string) {
  return JSON.parse(readFileSync(join(MODELS, `${name}.expected.json`), 'utf8'));
}

describe('inspect agrees with the onnx Python package', () => {
  for (const name of FIXTURES) {
    it(name, () => {
      const m = loadModel(modelPath(name));
      const s = summarizeModel(m);
      m.dispose();
      const e = expected(name);
      assert.deepEqual(s.opCounts, e.opCounts);
      assert.deepEqual(s.opCountsWithSubgraphs, e.opCountsWithSubgraphs);
      assert.equal(s.parameters, e.parameters);
      assert.deepEqual(s.bytesByDtype, e.bytesByDtype);
      assert.deepEqual(s.opsets, e.opsets);
      assert.deepEqual(s.inputs, e.inputs);
      assert.deepEqual(s.outputs, e.outputs);
    });
  }
});

describe('quantkit inspect', () => {
  it('--json prints one object with the documented fields, and runs the model in ONNX Runtime', () => {
    const r = runCli(['inspect', modelPath('external/model'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    for (const k of ['inputs', 'outputs', 'opsets', 'opCounts', 'parameters', 'bytesByDtype'])
      assert.ok(k in out, k);
    assert.equal(out.parameters, expected('external/model').parameters);
    assert.deepEqual(out.externalData, [{ location: 'model.onnx.data', tensors: 6, bytes: 13864 }]);
    assert.equal(out.runtime.loads, true);
  });

  it('prints a readable summary', () => {
    const r = runCli(['inspect', modelPath('cnn_bn')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /BatchNormalization 3/);
    assert.match(r.stdout, /input\s+input\s+float32\s+\[batch, 1, 28, 28\]/);
    assert.match(r.stdout, /ONNX Runtime [\d.]+: loads/);
  });

  it('bad input: one line on stderr naming the file, exit code 1, no stack trace', () => {
    withTempDir((dir) => {
      const bad = join(dir, 'truncated.onnx');
      writeFileSync(bad, readFileSync(modelPath('cnn_bn')).subarray(0, 500));
      for (const [file, pattern] of [
        [bad, /truncated\.onnx: not a valid ONNX model/],
        [join(dir, 'missing.onnx'), /missing\.onnx: no such file/],
      ] as const) {
        const r = runCli(['inspect', file]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, pattern);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /\n\s+at /);
      }
      const debug = runCli(['inspect', bad, '--debug']);
      assert.equal(debug.status, 1);
      assert.match(debug.stderr, /\n\s+at /, '--debug shows the stack');
    });
  });
});
