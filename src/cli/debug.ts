/**
 * `quantkit debug FP32.onnx QUANT.onnx --data X [--samples N] [--batch N] [--preprocess SPEC] [--top N]
 * [--json] [--report out.html] [--quiet]`
 *
 * `--json` prints { float, quantized, samples, tensors: [{ tensor, layer, opType, quantizedBy,
 * accumulated: { sqnrDb, cosine, relativeMse }, local: { sqnrDb, cosine, relativeMse }, inherited,
 * range, clip, clipped, histogram? }], outputs: [{ name, sqnrDb, cosine, relativeMse }],
 * weights: [{ weight, node, opType, type, granularity, sqnrDb, cosine }], unmatched } — tensors and
 * weights worst first. SQNR in dB; an exact match (infinite SQNR) is written as null.
 */
import type { Command } from 'commander';
import { debugQuantized, type DebugResult } from '../analysis/debug.js';
import { debugReportDocument } from '../analysis/report-debug.js';
import { decibels, fixed, percent, toJson } from '../analysis/report-format.js';
import { requiredInputs } from '../data/model-inputs.js';
import { openSampleSource } from '../data/sample-source.js';
import { writeHtmlReport } from '../io/html-report.js';
import { loadModel } from '../io/model-file.js';
import type { Model } from '../onnx/model.js';
import { reportSubtitle } from '../report/subtitle.js';
import { positiveInt } from './eval.js';
import { table } from './format.js';
import { createProgressBar } from './progress.js';

interface DebugFlags {
  data: string;
  samples?: number;
  batch: number;
  preprocess?: string;
  top: number;
  json?: boolean;
  report?: string;
  quiet?: boolean;
}

export function registerDebug(program: Command): void {
  program
    .command('debug')
    .description('find where a quantized model loses accuracy: per-layer and per-weight error against FP32')
    .argument('<fp32>', 'the float model the quantized one was made from')
    .argument('<quantized>', 'the quantized model (QDQ or operator format)')
    .requiredOption(
      '--data <path>',
      '.npy, .npz, a folder of them, or of images: inputs to run both models on',
    )
    .option('--samples <n>', 'use the first N samples (default: all)', positiveInt)
    .option('--batch <n>', 'samples per run (default 32)', positiveInt, 32)
    .option('--preprocess <spec>', "how images become the input, e.g. 'resize=224,mean=0.5,std=0.5'")
    .option('--top <n>', 'rows of the printed tables (default 15)', positiveInt, 15)
    .option('--json', 'print the analysis as one JSON object')
    .option('--report <path>', 'also write a self-contained HTML report')
    .option('--quiet', 'no progress bar')
    .action(async (floatPath: string, quantizedPath: string, flags: DebugFlags) => {
      const models: Model[] = [];
      const progress = createProgressBar({ quiet: flags.quiet || flags.json });
      try {
        const float = loadModel(floatPath);
        models.push(float);
        const quantized = loadModel(quantizedPath);
        models.push(quantized);
        const data = await openSampleSource(flags.data, requiredInputs(float.graph), {
          preprocess: flags.preprocess,
          limit: flags.samples,
          purpose: 'evaluation',
        });
        const result = await debugQuantized(
          float,
          quantized,
          data.batches(data.fixedBatchSize ?? flags.batch),
          {
            onProgress: progress.onProgress,
            total: data.sampleCount,
          },
        );
        progress.stop();
        if (flags.report) {
          const subtitle = reportSubtitle(program.version(), new Date());
          writeHtmlReport(
            debugReportDocument(result, { float: floatPath, quantized: quantizedPath, subtitle }),
            flags.report,
          );
        }
        if (flags.json) console.log(toJson({ float: floatPath, quantized: quantizedPath, ...result }));
        else console.log(render(result, flags.top, data.notes));
      } finally {
        progress.stop();
        for (const m of models) m.dispose();
      }
    });
}

function render(r: DebugResult, top: number, notes: readonly string[]): string {
  const lines = [
    `${r.samples} samples; ${r.tensors.length} quantized tensors matched, worst first (by the error the layer adds alone):`,
    '',
    table(
      r.tensors
        .slice(0, top)
        .map((t) => [
          t.layer,
          t.quantizedBy,
          fixed(t.local.sqnrDb, 1),
          fixed(t.accumulated.sqnrDb, 1),
          percent(t.inherited, 0),
          fixed(t.accumulated.cosine, 4),
          percent(t.clipped, 2),
        ]),
      ['layer', 'quantized by', 'alone dB', 'accumulated dB', 'from earlier', 'cosine', 'clipped'],
    ),
  ];
  if (r.tensors.length > top) lines.push(`… ${r.tensors.length - top} more (--top, --json)`);
  if (r.weights.length > 0) {
    lines.push(
      '',
      'weights, worst first:',
      table(
        r.weights.slice(0, top).map((w) => [w.weight, w.type, w.granularity, fixed(w.sqnrDb, 1)]),
        ['weight', 'type', 'granularity', 'SQNR dB'],
      ),
    );
  }
  for (const o of r.outputs)
    lines.push('', `output ${o.name}: SQNR ${decibels(o.sqnrDb)}, cosine ${fixed(o.cosine, 5)}`);
  for (const n of notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
