import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeNpy } from '../../src/data/npy-file.js';
import { loadModel } from '../../src/io/model-file.js';
import { fashionMnist, MODELS } from '../../examples/fmnist.js';
import { sliceAxis0 } from '../../src/tensor/ndarray.js';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/fixtures.js';

const CNN = join(MODELS, 'fmnist_cnn.onnx');

async function calibrationFile(dir: string, samples = 64): Promise<string> {
  const path = join(dir, 'calib.npy');
  await writeNpy(path, sliceAxis0(fashionMnist('calib').x, 0, samples));
  return path;
}

describe('quantkit quantize', () => {
  it('static with --json: a loadable model and the documented report fields', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'cnn.int8.onnx');
      const r = runCli(['quantize', CNN, '-o', out, '--calib-data', await calibrationFile(dir), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.options.mode, 'static');
      assert.equal(report.options.format, 'qdq');
      assert.equal(report.calibration.samples, 64);
      assert.equal(report.quantized.Conv, 6);
      assert.ok(report.bytes.after < report.bytes.before);
      const m = loadModel(out);
      assert.ok(m.graph.nodes.some((n) => n.opType === 'QuantizeLinear'));
      assert.equal(m.metadata()['quantkit.quantization'] !== undefined, true);
      m.dispose();
    });
  });

  it('--config sets options and flags override it', async () => {
    await withTempDir(async (dir) => {
      const config = join(dir, 'q.json');
      writeFileSync(
        config,
        JSON.stringify({ calibMethod: 'minmax', perChannel: false, format: 'qoperator' }),
      );
      const out = join(dir, 'o.onnx');
      const r = runCli([
        'quantize',
        CNN,
        '-o',
        out,
        '--calib-data',
        await calibrationFile(dir),
        '--config',
        config,
        '--per-channel',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const o = JSON.parse(r.stdout).options;
      assert.equal(o.calibMethod, 'minmax');
      assert.equal(o.format, 'qoperator');
      assert.equal(o.perChannel, true, 'the flag wins over the config');
    });
  });

  it('dynamic and fp16 modes print a readable summary', () => {
    withTempDir((dir) => {
      for (const mode of ['dynamic', 'fp16']) {
        const r = runCli(['quantize', CNN, '-o', join(dir, `${mode}.onnx`), '--mode', mode]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /size: .* → .* \(0\.\d\d×\)/);
      }
    });
  });

  it('refuses to overwrite its input, and bad data gives one line naming the input and shapes', async () => {
    await withTempDir(async (dir) => {
      const same = runCli(['quantize', CNN, '-o', CNN, '--mode', 'dynamic']);
      assert.equal(same.status, 1);
      assert.match(same.stderr, /is the input model/);
      const bad = join(dir, 'bad.npy');
      await writeNpy(bad, { dtype: 'float32', shape: [4, 28, 28], data: new Float32Array(4 * 784) });
      const out = join(dir, 'never.onnx');
      const r = runCli(['quantize', CNN, '-o', out, '--calib-data', bad]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /input 'input'.*\[\?, 1, 28, 28\].*\[4, 28, 28\]/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.ok(!existsSync(out), 'nothing written on failure');
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
        'no temporary files left',
      );
      const unknown = runCli(['quantize', CNN, '-o', out, '--calib-data', bad, '--calib-method', 'magic']);
      assert.match(unknown.stderr, /unknown calibration method 'magic'/);
    });
  });
});
