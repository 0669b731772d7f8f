/**
 * The flags `quantkit train` and `quantkit qat` share: data, schedule, optimiser, checkpoints. Turns
 * them into the training engine's options, reading the data and labels the flags name.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { requiredInputs } from '../data/model-inputs.js';
import { readLabels } from '../data/labels.js';
import { openSampleSource } from '../data/sample-source.js';
import { QuantkitError } from '../errors.js';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint-file.js';
import type { Model } from '../onnx/model.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../training/optim/create.js';
import { SCHEDULE_KINDS, type ScheduleKind } from '../training/schedule.js';
import { loadTrainData, sampleCount, type TrainData } from '../training/train-data.js';
import type { TrainLog, TrainOptions } from '../training/trainer.js';
import { positiveInt } from './eval.js';

export interface TrainingFlags {
  output: string;
  trainData: string;
  trainLabels: string;
  evalData?: string;
  evalLabels?: string;
  epochs?: number;
  steps?: number;
  batch: number;
  lr?: number;
  optimizer?: OptimizerName;
  weightDecay?: number;
  momentum?: number;
  schedule: ScheduleKind;
  warmup?: number;
  minLr?: number;
  stepSize?: number;
  seed: number;
  hflip?: boolean;
  evalEvery?: number;
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: string;
  threads?: number;
  externalData?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export interface TrainingDefaults {
  lr: number;
  optimizer: OptimizerName;
  weightDecay: number;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0)) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0)) throw new InvalidArgumentError('expected an integer ≥ 0');
  return n;
}

export function oneOf<T extends string>(names: readonly T[]) {
  return (value: string): T => {
    if (!names.includes(value as T)) throw new InvalidArgumentError(`expected ${names.join(' | ')}`);
    return value as T;
  };
}

export function addTrainingFlags(cmd: Command, d: TrainingDefaults): Command {
  return cmd
    .requiredOption('-o, --output <path>', 'where to write the trained model')
    .requiredOption(
      '--train-data <path>',
      '.npy (axis 0 = samples), .npz (one array per input) or a folder of them',
    )
    .requiredOption('--train-labels <path>', '.npy of class ids (or one-hot rows), one per training sample')
    .option('--eval-data <path>', 'held-out data whose top-1 is measured during and after training')
    .option('--eval-labels <path>', 'class ids of the held-out data')
    .option('--epochs <n>', 'passes over the training data (default 1)', positiveInt)
    .option('--steps <n>', 'optimiser steps instead of epochs', positiveInt)
    .option('--batch <n>', 'samples per step', positiveInt, 64)
    .option('--lr <x>', `peak learning rate (default ${d.lr})`, positiveNumber)
    .option(
      '--optimizer <name>',
      `${OPTIMIZER_NAMES.join(' | ')} (default ${d.optimizer})`,
      oneOf(OPTIMIZER_NAMES),
    )
    .option(
      '--weight-decay <x>',
      `on weights, not biases or scales (default ${d.weightDecay})`,
      nonNegativeNumber,
    )
    .option('--momentum <x>', 'sgd: momentum (default 0.9)', nonNegativeNumber)
    .option('--schedule <kind>', SCHEDULE_KINDS.join(' | '), oneOf(SCHEDULE_KINDS), 'cosine' as ScheduleKind)
    .option('--warmup <n>', 'steps of linear learning-rate warm-up (default 0)', nonNegativeInt)
    .option('--min-lr <x>', 'cosine: the rate at the last step (default 0)', nonNegativeNumber)
    .option('--step-size <n>', 'step schedule: steps between ×0.1 decays', positiveInt)
    .option('--seed <n>', 'shuffling (and --init he) seed', nonNegativeInt, 0)
    .option('--hflip', 'augment: mirror images [N, C, H, W] left–right at random')
    .option('--eval-every <n>', 'measure the held-out top-1 every N steps (default: at the end)', positiveInt)
    .option(
      '--checkpoint <path>',
      'save a checkpoint (.npz) here, atomically, every --checkpoint-every steps',
    )
    .option('--checkpoint-every <n>', 'steps between checkpoints (default: each epoch)', positiveInt)
    .option('--resume <path>', 'continue from a checkpoint of the same model and options')
    .option('--threads <n>', 'ONNX Runtime intra-op threads', positiveInt)
    .option('--external-data', 'store the weights in a side file <output>_data')
    .option('--json', 'print the report as one JSON object')
    .option('--quiet', 'no progress bar or per-epoch lines');
}

async function readData(model: Model, data: string, labels: string, purpose: 'training' | 'evaluation') {
  const source = await openSampleSource(data, requiredInputs(model.graph), { purpose });
  return loadTrainData(source, await readLabels(labels, source));
}

/** The engine's options from the flags, with the data read into memory. */
export async function trainingOptions(
  model: Model,
  f: TrainingFlags,
  d: TrainingDefaults,
): Promise<Omit<TrainOptions, 'loss' | 'teacher' | 'scales'>> {
  if (f.epochs !== undefined && f.steps !== undefined)
    throw new QuantkitError('give --epochs or --steps, not both');
  if ((f.evalData === undefined) !== (f.evalLabels === undefined)) {
    throw new QuantkitError('--eval-data and --eval-labels go together');
  }
  if (f.schedule === 'step' && f.stepSize === undefined)
    throw new QuantkitError('--schedule step needs --step-size');
  const data: TrainData = await readData(model, f.trainData, f.trainLabels, 'training');
  const evalData = f.evalData ? await readData(model, f.evalData, f.evalLabels!, 'evaluation') : undefined;
  const perEpoch = Math.floor(sampleCount(data) / f.batch);
  const steps = f.steps ?? (f.epochs ?? 1) * Math.max(1, perEpoch);
  return {
    data,
    evalData,
    batchSize: f.batch,
    steps,
    schedule: {
      kind: f.schedule,
      lr: f.lr ?? d.lr,
      warmupSteps: f.warmup,
      minLr: f.minLr,
      stepSize: f.stepSize,
    },
    optimizer: {
      name: f.optimizer ?? d.optimizer,
      weightDecay: f.weightDecay ?? d.weightDecay,
      momentum: f.momentum,
    },
    seed: f.seed,
    horizontalFlip: f.hflip,
    evalEvery: f.evalEvery,
    checkpointEvery: f.checkpoint ? (f.checkpointEvery ?? perEpoch) : undefined,
    onCheckpoint: f.checkpoint ? (c) => saveCheckpoint(f.checkpoint!, c) : undefined,
    resume: f.resume ? loadCheckpoint(f.resume) : undefined,
    runtime: f.threads ? { threads: f.threads } : undefined,
  };
}

/** Prints each log line above the progress bar, unless the output must stay quiet or be JSON. */
export function trainLogger(
  flags: { quiet?: boolean; json?: boolean },
  bar: { stop(): void },
): ((e: TrainLog) => void) | undefined {
  if (flags.quiet || flags.json) return undefined;
  return (e) => {
    bar.stop();
    console.log(logLine(e));
  };
}

function logLine(e: TrainLog): string {
  const parts = [
    `epoch ${e.epoch.toFixed(2)}`,
    `step ${e.step}`,
    `loss ${e.loss.toFixed(4)}`,
    `train top-1 ${(100 * e.trainAccuracy).toFixed(2)}%`,
  ];
  if (e.evalAccuracy !== undefined) parts.push(`eval top-1 ${(100 * e.evalAccuracy).toFixed(2)}%`);
  parts.push(`lr ${e.lr.toExponential(2)}`, `${e.seconds.toFixed(0)} s`);
  return parts.join('  ');
}
