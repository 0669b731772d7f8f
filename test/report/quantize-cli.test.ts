import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fashionMnist } from '../../examples/fmnist.js';
import { top1 } from '../../src/evaluate/top1.js';
import { sliceAxis0 } from '../../src/tensor/ndarray.js';
import { runCli } from '../helpers/cli.js';
import { runFile, withTempDir } from '../helpers/fixtures.js';
import { CNN, quantizeWithReport } from './cnn-report.js';

describe('quantkit quantize --report', () => {
  it('writes a small self-contained HTML report of the bundled CNN next to a model ONNX Runtime runs', async () => {
    await withTempDir(async (dir) => {
      const { html, path, model } = await quantizeWithReport(dir);
      assert.ok(statSync(path).size < 2e6, `${statSync(path).size} bytes`);
      for (const title of ['Model summary', 'Settings', 'Quantized operators', 'Notes'])
        assert.ok(html.includes(`<h2>${title}</h2>`), title);
      assert.match(html, /<td>Size<\/td><td class="before">1\.23 MB<\/td><td class="after">\d+ KB<\/td>/);
      assert.match(html, /<td>Conv<\/td><td class="num">6<\/td>/);
      assert.match(
        html,
        /<td>Top-1 agreement with FP32<\/td><td class="before"><\/td><td class="after">\d+\.\d%/,
      );
      assert.ok(!/<script|https?:/.test(html));
      const x = sliceAxis0(fashionMnist('test').x, 0, 64);
      const [fp32, int8] = await Promise.all([runFile(CNN, { input: x }), runFile(model, { input: x })]);
      const a = top1(fp32.logits.data as Float32Array, { rows: 64, classes: 10 });
      const b = top1(int8.logits.data as Float32Array, { rows: 64, classes: 10 });
      assert.ok(a.filter((c, i) => c === b[i]).length >= 60, 'the quantized model agrees with FP32');
    });
  });

  it('a report path in a missing folder gives one line naming it, before any work', () => {
    withTempDir((dir) => {
      const path = join(dir, 'no', 'such', 'report.html');
      const r = runCli(['quantize', CNN, '-o', join(dir, 'o.onnx'), '--report', path]);
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr.trim(),
        `quantkit: error: cannot write the report ${path}: no such file or directory (give --report a path in an existing, writable folder)`,
      );
      assert.ok(!existsSync(join(dir, 'o.onnx')), 'nothing quantized, nothing written');
    });
  });
});
