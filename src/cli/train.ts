/** `quantkit train IN.onnx -o OUT.onnx --train-data X --train-labels Y [options]`: float training. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadModel, saveModel } from '../io/model-file.js';
import { trainModel } from '../training/train-model.js';
import { createProgressBar } from './progress.js';
import {
  addTrainingFlags,
  trainLogger,
  nonNegativeInt,
  type TrainingFlags,
  trainingOptions,
} from './training-flags.js';

interface Flags extends TrainingFlags {
  init: 'he' | 'keep';
  freezeBnAfter?: number;
  foldBatchnorm?: boolean;
}

const DEFAULTS = { lr: 1e-3, optimizer: 'adamw', weightDecay: 1e-4 } as const;

function initKind(value: string): 'he' | 'keep' {
  if (value !== 'he' && value !== 'keep') throw new InvalidArgumentError('expected he | keep');
  return value;
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a classifier in float with ONNX Runtime (cross-entropy on class labels)')
    .argument('<input>', 'ONNX model to train (never modified)')
    .option(
      '--init <kind>',
      'he: start from random He-initialised weights | keep: fine-tune (default)',
      initKind,
      'keep',
    )
    .option(
      '--freeze-bn-after <n>',
      'BatchNormalization: use the running statistics from step N on',
      nonNegativeInt,
    )
    .option('--fold-batchnorm', 'fold BatchNormalization into the layers before it in the output');
  addTrainingFlags(cmd, DEFAULTS).action(async (input: string, flags: Flags) => {
    const bar = createProgressBar({ quiet: flags.quiet || flags.json });
    const model = loadModel(input);
    try {
      const options = await trainingOptions(model, flags, DEFAULTS);
      const { model: trained, report } = await trainModel(model, {
        ...options,
        init: flags.init,
        freezeBatchNormAfter: flags.freezeBnAfter,
        foldBatchNorm: flags.foldBatchnorm,
        onProgress: bar.onProgress,
        onLog: trainLogger(flags, bar),
      });
      bar.stop();
      const saved = saveModel(trained, flags.output, { externalData: flags.externalData });
      if (flags.json) {
        console.log(JSON.stringify({ input, output: flags.output, bytes: saved.bytes, ...report }, null, 2));
        return;
      }
      const acc =
        report.evalAccuracy === undefined
          ? ''
          : `, held-out top-1 ${(100 * report.evalAccuracy).toFixed(2)}%`;
      console.log(
        `trained ${input} → ${flags.output}: ${report.steps} steps in ${report.seconds.toFixed(0)} s ` +
          `(${report.samplesPerSecond.toFixed(0)} samples/s)${acc}`,
      );
    } finally {
      bar.stop();
      model.dispose();
    }
  });
}
