/**
 * `quantkit sensitivity FP32.onnx --calib-data X [--eval-data X --labels Y] [--group-depth N]
 * [static quantization options] [--json] [--report out.html] [--quiet]`
 *
 * One calibration, then each layer (or group of layers) quantized alone with the chosen options and
 * compared with FP32: accuracy drop with labels, KL divergence of the softmax outputs for classifiers,
 * output SQNR. `--json` prints the `MixedPrecisionReport` of src/pipeline/mixed-precision.ts:
 * { model, data: { source, samples, labelled }, referenceAccuracy?, sensitivity: [{ name, layers,
 * opTypes, weights, metrics: { accuracy?, agreement?, klDivergence?, sqnrDb }, accuracyDrop? }], ... }
 * with the ranking most sensitive first; accuracy in [0, 1], drops in points.
 */
import type { Command } from 'commander';
import { toJson } from '../analysis/report-format.js';
import { sensitivityReportDocument } from '../analysis/report-sensitivity.js';
import { QuantkitError } from '../errors.js';
import { writeHtmlReport } from '../io/html-report.js';
import { loadModel } from '../io/model-file.js';
import type { QuantizeOptions } from '../pipeline/options.js';
import { quantize } from '../pipeline/quantize.js';
import { reportSubtitle } from '../report/subtitle.js';
import { positiveInt } from './eval.js';
import { renderSensitivity } from './precision-plan.js';
import { createProgressBar } from './progress.js';

interface SensitivityFlags {
  calibData: string;
  calibSamples?: number;
  calibMethod?: QuantizeOptions['calibMethod'];
  evalData?: string;
  labels?: string;
  groupDepth?: number;
  samples?: number;
  preprocess?: string;
  weightType?: QuantizeOptions['weightType'];
  actType?: QuantizeOptions['activationType'];
  perChannel?: boolean;
  reduceRange?: boolean;
  target?: QuantizeOptions['target'];
  excludeNodes?: string;
  json?: boolean;
  report?: string;
  quiet?: boolean;
}

export function registerSensitivity(program: Command): void {
  program
    .command('sensitivity')
    .description('rank layers by how much quantizing each one alone changes the output (one calibration)')
    .argument('<fp32>', 'the float model')
    .requiredOption('--calib-data <path>', 'calibration data: .npy, .npz, a folder of them, or of images')
    .option('--calib-samples <n>', 'use the first N calibration samples', positiveInt)
    .option('--calib-method <method>', 'minmax (default) | ema | percentile | entropy | mse | aciq | admm')
    .option('--eval-data <path>', 'data to compare on (default: the calibration data)')
    .option('--samples <n>', 'samples each layer is measured on (default 500)', positiveInt)
    .option('--labels <path>', 'class ids of the --eval-data samples: rank by accuracy drop')
    .option(
      '--group-depth <n>',
      'rank groups of layers sharing the first N name segments (a block)',
      positiveInt,
    )
    .option('--preprocess <spec>', "images: e.g. 'resize=224,mean=0.5,std=0.5'")
    .option('--weight-type <type>', 'int8 (default) | uint8 | int4 | uint4 | int16')
    .option('--act-type <type>', 'uint8 (default) | int8 | int16 | uint16')
    .option('--no-per-channel', 'one scale per weight tensor')
    .option('--reduce-range', '7-bit weights (default on x86 CPUs without VNNI)')
    .option('--no-reduce-range', 'full 8-bit weights')
    .option(
      '--target <target>',
      'auto (default) | ort-cpu | ort-cpu:vnni | ort-cpu:avx2 | ort-cpu:arm64 | ort-wasm | tensorrt',
    )
    .option('--exclude-nodes <list>', 'leave these nodes (by name) in float')
    .option('--json', 'print the ranking as one JSON object')
    .option('--report <path>', 'also write a self-contained HTML report')
    .option('--quiet', 'no progress bar')
    .action(async (path: string, flags: SensitivityFlags) => {
      if (flags.labels && !flags.evalData) {
        throw new QuantkitError('--labels names the classes of --eval-data samples: give --eval-data too');
      }
      const progress = createProgressBar({ quiet: flags.quiet || flags.json });
      const model = loadModel(path);
      try {
        const { report } = await quantize(model, {
          mode: 'static',
          calibration: flags.calibData,
          calibSamples: flags.calibSamples,
          calibMethod: flags.calibMethod,
          preprocess: flags.preprocess,
          weightType: flags.weightType,
          activationType: flags.actType,
          perChannel: flags.perChannel,
          reduceRange: flags.reduceRange,
          target: flags.target,
          excludeNodes: flags.excludeNodes?.split(',').map((s) => s.trim()),
          evalData: flags.evalData,
          evalLabels: flags.labels,
          sensitivity: { groupDepth: flags.groupDepth, samples: flags.samples },
          onProgress: progress.onProgress,
        });
        progress.stop();
        const mp = report.mixedPrecision!;
        if (flags.report) {
          const subtitle = reportSubtitle(program.version(), new Date());
          writeHtmlReport(
            sensitivityReportDocument(mp, { model: path, options: report.options, subtitle }),
            flags.report,
          );
        }
        if (flags.json) {
          const { plan: _plan, averageWeightBits: _bits, evaluations, ...ranking } = mp;
          console.log(toJson({ model: path, ...ranking, evaluations, notes: report.notes }));
        } else {
          console.log(renderSensitivity(mp));
        }
      } finally {
        progress.stop();
        model.dispose();
      }
    });
}
