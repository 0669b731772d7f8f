// quantkit quantize --calib-text FILE --tokenizer tokenizer.json: a language model calibrated on plain
// text, and the flag combinations that make no sense refused in one line.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/io/model-file.js';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/fixtures.js';
import { outputCosine } from '../passes/weight-only/models.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'models');
const LM = join(EXAMPLES, 'tiny_lm.onnx');
const TOKENIZER = join(EXAMPLES, 'tiny_lm.tokenizer.json');
const VERSES =
  'In the beginning God created the heaven and the earth.\n' +
  'And the earth was without form, and void; and darkness was upon the face of the deep.\n';

describe('quantkit quantize --calib-text', () => {
  it('calibrates the tiny LM on text windows; the result runs in ONNX Runtime close to FP32', () =>
    withTempDir(async (dir) => {
      const text = join(dir, 'genesis.txt');
      writeFileSync(text, VERSES.repeat(8)); // 1128 characters, one token each
      const out = join(dir, 'lm.int8.onnx');
      const r = runCli([
        'quantize',
        LM,
        '-o',
        out,
        '--calib-text',
        text,
        '--tokenizer',
        TOKENIZER,
        '--calib-seq-len',
        '64',
        '--calib-samples',
        '8',
        '--no-verify',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.options.mode, 'static');
      assert.equal(report.calibration.samples, 8);
      assert.ok(
        report.notes.includes(
          `calibration text '${text}': 1128 tokens → 8 windows of 64 (the last 616 tokens left out)`,
        ),
        report.notes.join('\n'),
      );
      const ids = BigInt64Array.from({ length: 64 }, (_, i) => BigInt((i * 7) % 63));
      const [fp32, int8] = [loadModel(LM), loadModel(out)];
      try {
        const feeds = { input_ids: { dtype: 'int64' as const, shape: [1, 64], data: ids } };
        assert.ok((await outputCosine(fp32, int8, feeds)) > 0.99);
      } finally {
        fp32.dispose();
        int8.dispose();
      }
    }));

  it('refuses --calib-text without a tokenizer, and a tokenizer without text', () =>
    withTempDir((dir) => {
      const out = join(dir, 'never.onnx');
      const cases: [string[], RegExp][] = [
        [['--calib-text', 'a.txt'], /--calib-text needs the model's tokenizer: --tokenizer tokenizer.json/],
        [['--calib-data', 'x.npy', '--tokenizer', TOKENIZER], /--tokenizer goes with --calib-text FILE/],
      ];
      for (const [flags, message] of cases) {
        const r = runCli(['quantize', LM, '-o', out, ...flags]);
        assert.equal(r.status, 1, `${flags.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      }
    }));
});
