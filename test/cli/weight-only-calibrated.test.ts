// quantkit quantize --mode weight-only --algorithm gptq: the flags reach the pass and the written model
// runs in ONNX Runtime (misuse is tested in weight-only.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeNpy } from '../../src/data/npy-file.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { randomInput } from '../helpers/tiny-models.js';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/fixtures.js';
import { BATCH, floatInput, mlp, opTypes, outputCosine } from '../passes/weight-only/models.js';

describe('quantkit quantize --algorithm awq / gptq', () => {
  it('--algorithm gptq --act-order --damp 0.05 with --calib-data: MatMulNBits that ONNX Runtime runs', async () => {
    await withTempDir(async (dir) => {
      const model = join(dir, 'mlp.onnx');
      saveModel(mlp(), model);
      const calib = join(dir, 'calib.npy');
      await writeNpy(calib, { dtype: 'float32', shape: [64, 256], data: randomInput([64, 256], 3) });
      const out = join(dir, 'q.onnx');
      const args = ['--mode', 'weight-only', '--algorithm', 'gptq', '--act-order', '--damp', '0.05'];
      const r = runCli(['quantize', model, '-o', out, ...args, '--calib-data', calib, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.deepEqual(report.options.weightOnly.gptq, { damp: 0.05, actOrder: true });
      assert.ok(report.weightOnly.nodes.every((n: { note: string }) => /GPTQ/.test(n.note)));
      const m = loadModel(out);
      assert.deepEqual(opTypes(m), ['MatMulNBits', 'Relu', 'MatMulNBits']);
      assert.ok((await outputCosine(mlp(), m, floatInput('x', [BATCH, 256]))) > 0.99);
      m.dispose();
    });
  });
});
