/**
 * `quantkit eval MODEL --data X [--task classify|lm] [--labels Y] [--reference FP32.onnx] [--batch N]
 * [--output NAME] [--input NAME] [--preprocess SPEC] [--threads N] [--json] [--quiet] [--no-latency]`
 *
 * `--json` prints the `Evaluation` of src/evaluate/result.ts with the file paths added:
 * { model, task: 'classify' | 'lm', samples, output, input?, tokens?, perplexity?, nll?, accuracy?,
 *   agreement?, sqnrDb?, cosine?, maxAbsError?, outputsIdentical?,
 *   bytes, latencyMs?: { batch, runs, threads, median, p90, cpuMedian }, cpu?: { model, arch, cores, flags },
 *   outputs?: { [name]: { sqnrDb, cosine, maxAbsError, outputsIdentical } },
 *   reference?: { model, bytes, accuracy?, perplexity?, nll?, latencyMs? },
 *   comparison?: { sizeRatio, speedup?, speedupFrom?: 'cpu' | 'wall', accuracyDelta?, perplexityRatio?,
 *   perplexityDelta? }, notes? }
 * `--task lm`: --data holds token-id windows [N, T] (int64 .npy, or .npz with the model's inputs);
 * input, tokens, perplexity and nll are set, accuracy is next-token top-1 accuracy and agreement
 * next-token top-1 agreement with the reference (src/evaluate/result.ts).
 * Fractions in [0, 1], sizes in bytes, times in ms. JSON has no Infinity: the SQNR of identical
 * outputs is written as null with outputsIdentical: true (null with outputsIdentical: false means an
 * output held NaN where the reference did not); a perplexity that overflowed is null too.
 */
import { basename } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { readLabels } from '../data/labels.js';
import { requiredInputs } from '../data/model-inputs.js';
import { openSampleSource } from '../data/sample-source.js';
import { evaluate } from '../evaluate/evaluate.js';
import { lmInputs } from '../evaluate/lm-inputs.js';
import type { Comparison, Evaluation, EvaluationTask, LatencyFigures } from '../evaluate/result.js';
import { loadModel } from '../io/model-file.js';
import type { Model } from '../onnx/model.js';
import { formatBytes, table } from './format.js';
import { createProgressBar } from './progress.js';

interface EvalOptions {
  data: string;
  task: EvaluationTask;
  input?: string;
  labels?: string;
  reference?: string;
  batch?: number;
  output?: string;
  preprocess?: string;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
  latency: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'measure a model: top-1 accuracy (or perplexity), agreement and output SQNR against a reference, size, latency',
    )
    .argument('<model>', 'ONNX model file')
    .requiredOption(
      '--data <path>',
      '.npy (axis 0 = samples), .npz (one array per input), a folder of them, or of images',
    )
    .option(
      '--task <task>',
      'classify (top-1 classes) or lm (perplexity of a causal language model on token-id windows)',
      parseTask,
      'classify' as EvaluationTask,
    )
    .option('--labels <path>', '.npy of class ids or one-hot rows, one per sample: gives accuracy')
    .option('--reference <path>', 'model to compare with, usually the FP32 original')
    .option('--batch <n>', 'samples per run (default 1; a batch size fixed by the model wins)', positiveInt)
    .option('--output <name>', 'output to read classes (lm: logits) from (default: the first output)')
    .option(
      '--input <name>',
      'lm: the input holding the token ids (default: input_ids or the only integer input); ' +
        'attention_mask and position_ids inputs are filled in',
    )
    .option('--preprocess <spec>', "how images become the input, e.g. 'resize=224,mean=0.5,std=0.5'")
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default 1)', positiveInt)
    .option('--json', 'print one JSON object')
    .option('--quiet', 'no progress bar')
    .option('--no-latency', 'skip the latency measurement')
    .action(async (path: string, opts: EvalOptions) => {
      const models: Model[] = [];
      const progress = createProgressBar({ quiet: opts.quiet });
      try {
        const model = loadModel(path);
        models.push(model);
        const reference = opts.reference ? loadModel(opts.reference) : undefined;
        if (reference) models.push(reference);
        const lm = opts.task === 'lm';
        if (lm && opts.labels) {
          throw new InvalidArgumentError(
            '--labels is for classification; --task lm reads its targets from the token ids',
          );
        }
        // A language model's attention_mask/position_ids are filled in by evaluate() when the data lacks them.
        const filled = lm ? lmInputs(model.graph, opts.input).filled.map((f) => f.name) : [];
        const inputs = requiredInputs(model.graph).filter((i) => !filled.includes(i.name));
        const data = await openSampleSource(opts.data, inputs, {
          preprocess: opts.preprocess,
          purpose: 'evaluation',
        });
        const labels = opts.labels ? await readLabels(opts.labels, data) : undefined;
        const batch = data.fixedBatchSize ?? opts.batch ?? 1;
        const result = await evaluate(model, data.batches(batch), {
          task: opts.task,
          input: opts.input,
          labels,
          reference,
          batchSize: batch,
          output: opts.output,
          runtime: { threads: opts.threads ?? 1 },
          latency: opts.latency,
          total: data.sampleCount,
          onProgress: progress.onProgress,
        });
        progress.stop();
        const { notes } = data;
        if (opts.json) {
          const reference = result.reference && { model: opts.reference, ...result.reference };
          const json = {
            model: path,
            ...result,
            ...(reference && { reference }),
            ...(notes.length > 0 && { notes }),
          };
          console.log(JSON.stringify(json, null, 2));
        } else {
          const render = lm ? renderLm : renderClassify;
          console.log(render(path, opts.reference, result, notes));
        }
      } finally {
        progress.stop();
        for (const m of models) m.dispose();
      }
    });
}

function parseTask(value: string): EvaluationTask {
  if (value !== 'classify' && value !== 'lm') throw new InvalidArgumentError('expected classify or lm');
  return value;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function renderClassify(
  path: string,
  referencePath: string | undefined,
  r: Evaluation,
  notes: readonly string[],
): string {
  const rows: string[][] = [
    [
      basename(path),
      percent(r.accuracy),
      percent(r.agreement),
      r.sqnrDb === undefined ? '' : decibels(r.sqnrDb),
      formatBytes(r.bytes),
      latency(r.latencyMs),
    ],
  ];
  if (r.reference) {
    const ref = r.reference;
    rows.push([
      basename(referencePath!),
      percent(ref.accuracy),
      '',
      '',
      formatBytes(ref.bytes),
      latency(ref.latencyMs),
    ]);
  }
  const header = [
    'model',
    'accuracy',
    'agreement',
    'SQNR',
    'size',
    r.latencyMs ? `latency (batch ${r.latencyMs.batch})` : 'latency',
  ];
  const lines = [compactTable(rows, header)];
  const c = r.comparison;
  if (c) {
    const parts = sizeAndSpeed(c);
    if (c.accuracyDelta !== undefined) parts.push(`accuracy ${signed(c.accuracyDelta * 100)} pt`);
    lines.push('', `${basename(path)} vs ${basename(referencePath!)}: ${parts.join(', ')}`);
  }
  const classified = r.accuracy !== undefined || r.agreement !== undefined;
  lines.push('', `${r.samples} samples${classified ? `; classes from output '${r.output}'` : ''}`);
  return [...lines, ...footer(r, notes)].join('\n');
}

/** The table without the columns no row fills (the model column always stays). */
function compactTable(rows: readonly string[][], header: readonly string[]): string {
  const keep = header.map((_, i) => i === 0 || rows.some((row) => row[i] !== ''));
  const pick = (row: readonly string[]) => row.filter((_, i) => keep[i]);
  return table(rows.map(pick), pick(header));
}

function sizeAndSpeed(c: Comparison): string[] {
  const parts = [`${ratio(c.sizeRatio)} the size`];
  if (c.speedup !== undefined) parts.push(`${ratio(c.speedup)} the speed${speedWord(c.speedup)}`);
  return parts;
}

function renderLm(
  path: string,
  referencePath: string | undefined,
  r: Evaluation,
  notes: readonly string[],
): string {
  const rows: string[][] = [
    [
      basename(path),
      perplexity(r.perplexity),
      percent(r.accuracy),
      percent(r.agreement),
      formatBytes(r.bytes),
      latency(r.latencyMs),
    ],
  ];
  if (r.reference) {
    const ref = r.reference;
    rows.push([
      basename(referencePath!),
      perplexity(ref.perplexity),
      percent(ref.accuracy),
      '',
      formatBytes(ref.bytes),
      latency(ref.latencyMs),
    ]);
  }
  const header = [
    'model',
    'perplexity',
    'next-token top-1',
    'agreement',
    'size',
    r.latencyMs ? `latency (batch ${r.latencyMs.batch})` : 'latency',
  ];
  const lines = [compactTable(rows, header)];
  const c = r.comparison;
  if (c) {
    const parts: string[] = [];
    if (c.perplexityDelta !== undefined && c.perplexityRatio !== undefined) {
      parts.push(`perplexity ${signed(c.perplexityDelta, 3)} (${ratio(c.perplexityRatio, 4)})`);
    }
    parts.push(...sizeAndSpeed(c));
    lines.push('', `${basename(path)} vs ${basename(referencePath!)}: ${parts.join(', ')}`);
  }
  const perWindow = r.tokens! / r.samples + 1;
  lines.push(
    '',
    `${r.samples} windows of ${perWindow} tokens, ${r.tokens} next-token predictions; ` +
      `token ids from input '${r.input}', logits from output '${r.output}'`,
  );
  return [...lines, ...footer(r, notes)].join('\n');
}

function footer(r: Evaluation, notes: readonly string[]): string[] {
  const lines: string[] = [];
  const c = r.comparison;
  if (r.latencyMs && r.cpu) {
    const l = r.latencyMs;
    const threads = `${l.threads} thread${l.threads === 1 ? '' : 's'}`;
    lines.push(
      `latency: median of ${l.runs} runs${r.reference ? ' per model, interleaved' : ''}, ${threads}, ` +
        `on ${r.cpu.model} (${r.cpu.flags.join(', ') || 'no int8 dot-product flags'})`,
    );
    if (c?.speedupFrom === 'cpu') lines.push('speed: CPU time per run, runs paired round by round');
    if (l.threads === 1 && l.median > BUSY * l.cpuMedian) {
      lines.push(
        `note: the machine is busy: a run took ${milliseconds(l.median)} but used ${milliseconds(l.cpuMedian)} of CPU; ` +
          'latencies include waiting for a core',
      );
    }
  }
  for (const n of notes) lines.push(`note: ${n}`);
  return lines;
}

function perplexity(x: number | undefined): string {
  return x === undefined ? '' : x.toFixed(x >= 1000 ? 0 : 3);
}

function percent(x: number | undefined): string {
  return x === undefined ? '' : `${(x * 100).toFixed(2)}%`;
}

function decibels(x: number): string {
  return x === Infinity ? 'inf (identical)' : `${x.toFixed(1)} dB`;
}

/** Wall time above this multiple of CPU time (one thread) means the run mostly waited for a core. */
const BUSY = 1.5;

function latency(l: LatencyFigures | undefined): string {
  return l ? milliseconds(l.median) : '';
}

function milliseconds(v: number): string {
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3)} ms`;
}

function ratio(x: number, digits = 2): string {
  return `${x.toFixed(digits)}×`;
}

function speedWord(speedup: number): string {
  if (ratio(speedup) === ratio(1)) return '';
  return speedup > 1 ? ' (faster)' : ' (slower)';
}

function signed(x: number, digits = 2): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}
