import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createProgressBar } from '../../src/cli/progress.js';
import { writeNpy } from '../../src/data/npy-file.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { createRng } from '../../src/tensor/random.js';
import { runCli } from '../helpers/cli.js';
import { modelPath, runFile, withTempDir } from '../helpers/fixtures.js';

const N = 120;
const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const TINY_LM = join(EXAMPLES, 'models', 'tiny_lm.onnx');
const LM_HELDOUT = join(EXAMPLES, 'data', 'lm-heldout.npy');

async function writeData(dir: string) {
  const rng = createRng(11);
  const x = new Float32Array(N * 64).map(() => rng.nextFloat() * 4 - 2);
  const labels = Int32Array.from({ length: N }, () => rng.nextUint32() % 10);
  const data = join(dir, 'x.npy');
  await writeNpy(data, { dtype: 'float32', shape: [N, 64], data: x });
  const labelsPath = join(dir, 'y.npy');
  await writeNpy(labelsPath, { dtype: 'int32', shape: [N], data: labels });
  return { data, labelsPath, x, labels };
}

function expectOneLineError(r: ReturnType<typeof runCli>, pattern: RegExp) {
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

describe('quantkit eval', () => {
  it('--json: the figures issue 3 names, the reference under `reference`, the ratios', async () => {
    await withTempDir(async (dir) => {
      const { data, labelsPath, x, labels } = await writeData(dir);
      const mlp = modelPath('mlp');
      const r = runCli([
        'eval',
        mlp,
        '--data',
        data,
        '--labels',
        labelsPath,
        '--reference',
        mlp,
        '--batch',
        '8',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
      const out = JSON.parse(r.stdout);
      const scores = (await runFile(mlp, { input: { dtype: 'float32', shape: [N, 64], data: x } })).output
        .data as Float32Array;
      let correct = 0;
      for (let i = 0; i < N; i++) {
        const row = scores.subarray(i * 10, i * 10 + 10);
        if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
      }
      assert.equal(out.model, mlp);
      assert.equal(out.samples, N);
      assert.equal(out.accuracy, correct / N);
      assert.equal(out.agreement, 1);
      assert.equal(out.sqnrDb, null, 'JSON has no Infinity');
      assert.equal(out.outputsIdentical, true);
      assert.equal(typeof out.bytes, 'number');
      assert.deepEqual(Object.keys(out.latencyMs), [
        'batch',
        'runs',
        'threads',
        'median',
        'p90',
        'cpuMedian',
      ]);
      assert.equal(out.latencyMs.batch, 8);
      assert.equal(out.latencyMs.threads, 1);
      assert.ok(Array.isArray(out.cpu.flags));
      assert.equal(out.reference.model, mlp);
      assert.equal(out.reference.accuracy, out.accuracy);
      assert.equal(out.reference.latencyMs.runs, out.latencyMs.runs);
      assert.equal(out.comparison.sizeRatio, 1);
      assert.equal(out.comparison.accuracyDelta, 0);
      assert.equal(typeof out.comparison.speedup, 'number');
      assert.equal(out.comparison.speedupFrom, 'cpu');
    });
  });

  it('prints a table and the ratios line for a perturbed model against its original', async () => {
    await withTempDir(async (dir) => {
      const { data, labelsPath } = await writeData(dir);
      const m = loadModel(modelPath('mlp'));
      const w = m.graph.findInitializer('fc1.weight')!;
      const halved = Float32Array.from(w.toFloat32(), (v) => v * 0.5);
      m.graph.removeInitializer(w.name);
      m.graph.addInitializer(Tensor.fromArray(w.name, 'float32', w.dims, halved));
      const perturbed = join(dir, 'perturbed.onnx');
      saveModel(m, perturbed);
      m.dispose();
      const r = runCli([
        'eval',
        perturbed,
        '--data',
        data,
        '--labels',
        labelsPath,
        '--reference',
        modelPath('mlp'),
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /model\s+accuracy\s+agreement\s+SQNR\s+size\s+latency \(batch 1\)/);
      assert.match(r.stdout, /perturbed\.onnx\s+\d+\.\d\d%\s+\d+\.\d\d%\s+-?\d+\.\d dB\s+\d/);
      assert.match(
        r.stdout,
        /perturbed\.onnx vs mlp\.onnx: \d\.\d\d× the size, \d+\.\d\d× the speed( \((faster|slower)\))?, accuracy [+−]\d+\.\d\d pt/,
      );
      assert.match(r.stdout, new RegExp(`${N} samples; classes from output 'output'`));
      assert.match(r.stdout, /latency: median of \d+ runs per model, interleaved, 1 thread, on .+ \(/);
    });
  });

  it('reads an .npz by input name; --no-latency skips timing', () => {
    const r = runCli([
      'eval',
      modelPath('cnn_bn'),
      '--data',
      modelPath('cnn_bn').replace(/\.onnx$/, '.input.npz'),
      '--json',
      '--no-latency',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.samples, 3);
    assert.equal(out.latencyMs, undefined);
    assert.equal(out.accuracy, undefined);
  });

  it('bad input: one line naming the problem, exit code 1', async () => {
    await withTempDir(async (dir) => {
      const { data } = await writeData(dir);
      const fewLabels = join(dir, 'few.npy');
      await writeNpy(fewLabels, { dtype: 'int64', shape: [3], data: BigInt64Array.from([1n, 2n, 3n]) });
      expectOneLineError(
        runCli(['eval', join(dir, 'missing.onnx'), '--data', data]),
        /missing\.onnx: no such file/,
      );
      expectOneLineError(
        runCli(['eval', modelPath('mlp'), '--data', join(dir, 'nope.npy')]),
        /cannot read evaluation data '.*nope\.npy': no such file/,
      );
      expectOneLineError(
        runCli(['eval', modelPath('mlp'), '--data', data, '--labels', fewLabels, '--no-latency']),
        /labels '.*few\.npy' hold 3 labels, the data '.*x\.npy' has 120 samples/,
      );
      expectOneLineError(
        runCli(['eval', modelPath('control_flow'), '--data', data]),
        /holds one array, but the model has 2 inputs \('input', 'cond'\); give a \.npz/,
      );
      expectOneLineError(runCli(['eval', modelPath('mlp'), '--data', data, '--batch', '0']), /--batch/);
    });
  });
});

describe('quantkit eval --task lm', () => {
  it('--json: perplexity, next-token accuracy and agreement; against itself ratio 1, agreement 100%', () => {
    const r = runCli([
      'eval',
      TINY_LM,
      '--task',
      'lm',
      '--data',
      LM_HELDOUT,
      '--reference',
      TINY_LM,
      '--batch',
      '16',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const expected = JSON.parse(readFileSync(join(EXAMPLES, 'models', 'reference.json'), 'utf8')).tiny_lm
      .perplexity;
    assert.equal(out.model, TINY_LM);
    assert.equal(out.task, 'lm');
    assert.equal(out.samples, 64);
    assert.equal(out.input, 'input_ids');
    assert.equal(out.output, 'logits');
    assert.equal(out.tokens, 64 * 127);
    assert.ok(Math.abs(out.perplexity / expected.heldoutTorch - 1) < 0.005, `${out.perplexity}`);
    assert.ok(Math.abs(Math.exp(out.nll) - out.perplexity) < 1e-9 * out.perplexity);
    assert.ok(out.accuracy > 0 && out.accuracy < 1);
    assert.equal(out.agreement, 1);
    assert.equal(out.outputsIdentical, true);
    assert.equal(out.reference.model, TINY_LM);
    assert.equal(out.reference.perplexity, out.perplexity);
    assert.equal(out.reference.accuracy, out.accuracy);
    assert.equal(out.comparison.perplexityRatio, 1);
    assert.equal(out.comparison.perplexityDelta, 0);
    assert.equal(out.comparison.accuracyDelta, 0);
    assert.equal(out.comparison.sizeRatio, 1);
    assert.equal(out.latencyMs.batch, 16);
  });

  it('prints perplexity, its change and ratio against the reference', async () => {
    await withTempDir(async (dir) => {
      const m = loadModel(TINY_LM);
      const w = m.graph.findInitializer('lm_head.weight')!;
      const noisy = Float32Array.from(w.toFloat32(), (v, i) => v * (1 + 0.3 * Math.sin(i)));
      m.graph.removeInitializer(w.name);
      m.graph.addInitializer(Tensor.fromArray(w.name, 'float32', w.dims, noisy));
      const perturbed = join(dir, 'noisy_lm.onnx');
      saveModel(m, perturbed);
      m.dispose();
      const r = runCli([
        'eval',
        perturbed,
        '--task',
        'lm',
        '--data',
        LM_HELDOUT,
        '--reference',
        TINY_LM,
        '--batch',
        '32',
        '--no-latency',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /model\s+perplexity\s+next-token top-1\s+agreement\s+size\n/);
      assert.match(r.stdout, /noisy_lm\.onnx\s+\d+\.\d{3}\s+\d+\.\d\d%\s+\d+\.\d\d%\s+\d/);
      assert.match(r.stdout, /tiny_lm\.onnx\s+\d+\.\d{3}\s+\d+\.\d\d%\s+\d/);
      assert.match(
        r.stdout,
        /noisy_lm\.onnx vs tiny_lm\.onnx: perplexity [+−]\d+\.\d{3} \(\d\.\d{4}×\), 1\.00× the size/,
      );
      assert.match(
        r.stdout,
        /64 windows of 128 tokens, 8128 next-token predictions; token ids from input 'input_ids', logits from output 'logits'/,
      );
    });
  });

  it('bad input: one line naming the problem', async () => {
    await withTempDir(async (dir) => {
      const { data, labelsPath } = await writeData(dir);
      expectOneLineError(
        runCli(['eval', TINY_LM, '--task', 'lm', '--data', LM_HELDOUT, '--labels', labelsPath]),
        /--labels is for classification/,
      );
      expectOneLineError(runCli(['eval', TINY_LM, '--task', 'regress', '--data', LM_HELDOUT]), /--task/);
      expectOneLineError(
        runCli(['eval', modelPath('mlp'), '--task', 'lm', '--data', data, '--no-latency']),
        /cannot tell which input holds the token ids \(inputs: 'input'\); name it with --input/,
      );
      expectOneLineError(
        runCli(['eval', TINY_LM, '--task', 'lm', '--data', LM_HELDOUT, '--output', 'nope']),
        /no numeric output 'nope' to read logits from/,
      );
    });
  });
});

describe('progress bar', () => {
  const capture = (isTTY: boolean) => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
    stream.isTTY = isTTY;
    stream.columns = 80;
    let written = '';
    stream.on('data', (c: Buffer) => (written += c.toString()));
    return { stream, written: () => written };
  };
  const drive = (bar: ReturnType<typeof createProgressBar>) => {
    for (let i = 1; i <= 5; i++) bar.onProgress({ stage: 'evaluate', done: i * 10, total: 50 });
    bar.onProgress({ stage: 'latency', done: 1, total: 3 });
    bar.stop();
  };

  it('draws counts on a terminal', () => {
    const tty = capture(true);
    drive(createProgressBar({ stream: tty.stream, env: {} }));
    assert.match(tty.written(), /evaluate \[.*\] 10\/50/);
    assert.match(tty.written(), /latency \[.*\] 1\/3/);
  });

  it('prints nothing when stderr is not a terminal, with --quiet, or under CI', () => {
    for (const [isTTY, quiet, env] of [
      [false, false, {}],
      [true, true, {}],
      [true, false, { CI: 'true' }],
    ] as const) {
      const s = capture(isTTY);
      drive(createProgressBar({ stream: s.stream, quiet, env }));
      assert.equal(s.written(), '', JSON.stringify({ isTTY, quiet, env }));
    }
  });
});
