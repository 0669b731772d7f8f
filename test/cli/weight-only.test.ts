// quantkit quantize --mode weight-only end to end: flags reach the pass, the written model runs in
// ONNX Runtime, and misuse is a one-line error.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/fixtures.js';
import { BATCH, floatInput, mlp, opTypes, outputCosine } from '../passes/weight-only/models.js';

function savedMlp(dir: string): string {
  const path = join(dir, 'mlp.onnx');
  saveModel(mlp(), path);
  return path;
}

describe('quantkit quantize --mode weight-only', () => {
  it('MatMulNBits with --json: the report and a model ONNX Runtime runs', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'q4.onnx');
      const r = runCli([
        'quantize',
        savedMlp(dir),
        '-o',
        out,
        '--mode',
        'weight-only',
        '--block-size',
        '64',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.options.mode, 'weight-only');
      assert.equal(report.options.format, 'qoperator');
      assert.deepEqual(
        [
          report.options.weightOnly.bits,
          report.options.weightOnly.blockSize,
          report.options.weightOnly.algorithm,
        ],
        [4, 64, 'rtn'],
      );
      assert.deepEqual(report.quantized, { MatMul: 1, Gemm: 1 });
      assert.equal(report.weightOnly.nodes.length, 2);
      assert.ok(report.bytes.after < 0.2 * report.bytes.before);
      const m = loadModel(out);
      assert.deepEqual(opTypes(m), ['MatMulNBits', 'Relu', 'MatMulNBits']);
      assert.ok((await outputCosine(mlp(), m, floatInput('x', [BATCH, 256]))) > 0.99);
      m.dispose();
    });
  });

  it('--format qdq --algorithm hqq --keep-lm-head --bits 8, with the text report', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'q8.onnx');
      const r = runCli([
        'quantize',
        savedMlp(dir),
        '-o',
        out,
        '--mode',
        'weight-only',
        '--format',
        'qdq',
        '--algorithm',
        'hqq',
        '--keep-lm-head',
        '--bits',
        '8',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /weight-only 8-bit, blocks of 32, HQQ, asymmetric, blocked DequantizeLinear/);
      assert.match(r.stdout, /fc2 \(Gemm\) stays in float: the output projection \(keepLmHead\)/);
      assert.match(r.stdout, /opset raised from 17 to 21/);
      const m = loadModel(out);
      assert.deepEqual(opTypes(m), ['DequantizeLinear', 'MatMul', 'Relu', 'Gemm']);
      assert.ok((await outputCosine(mlp(), m, floatInput('x', [BATCH, 256]))) > 0.9999);
      m.dispose();
    });
  });

  it('misuse: calibrated algorithms without data, weight-only flags in other modes, contradictions', () => {
    withTempDir((dir) => {
      const model = savedMlp(dir);
      const out = join(dir, 'o.onnx');
      for (const [flags, message] of [
        [
          ['--mode', 'weight-only', '--algorithm', 'awq'],
          /--algorithm awq learns from the layers' inputs and needs calibration data: --calib-data/,
        ],
        [
          ['--mode', 'weight-only', '--algorithm', 'gptq'],
          /--algorithm gptq learns from the layers' inputs and needs calibration data/,
        ],
        [['--mode', 'dynamic', '--bits', '4'], /--bits applies to --mode weight-only, not to --mode dynamic/],
        [['--mode', 'weight-only', '--symmetric', '--asymmetric'], /--symmetric and --asymmetric contradict/],
        [['--mode', 'weight-only', '--block-size', '100'], /--block-size must be a power of two/],
        [['--mode', 'weight-only', '--damp', '0.1'], /--damp and --act-order are GPTQ settings/],
      ] as const) {
        const r = runCli(['quantize', model, '-o', out, ...flags]);
        assert.equal(r.status, 1, `${flags.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      }
    });
  });
});
