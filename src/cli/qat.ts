/** `quantkit qat IN.onnx -o OUT.onnx --train-data X --train-labels Y [options]`: quantization-aware training. */
import type { Command } from 'commander';
import { addPlacementFlags } from './placement-flags.js';
import { requiredInputs } from '../data/model-inputs.js';
import { openSampleSource } from '../data/sample-source.js';
import { QuantkitError } from '../errors.js';
import { loadModel, saveModel } from '../io/model-file.js';
import type { CalibMethod, QuantFormat, Target } from '../pipeline/options.js';
import type { QuantType } from '../quant/types.js';
import type { ScaleLearning } from '../training/fake-quant/gradient.js';
import { quantizeAwareTraining, type QatRequest } from '../training/qat.js';
import { positiveInt } from './eval.js';
import { createProgressBar } from './progress.js';
import {
  addTrainingFlags,
  trainLogger,
  nonNegativeNumber,
  oneOf,
  positiveNumber,
  type TrainingFlags,
  trainingOptions,
} from './training-flags.js';

interface Flags extends TrainingFlags {
  distill?: boolean;
  alpha: number;
  beta: number;
  temperature: number;
  weightType?: string;
  actType?: QuantType;
  learnScales: ScaleLearning;
  perChannel?: boolean;
  symmetricWeights?: boolean;
  symmetricActivations?: boolean;
  reduceRange?: boolean;
  opTypes?: string;
  excludeOpTypes?: string;
  excludeNodes?: string;
  target?: Target;
  format?: QuantFormat;
  calibData?: string;
  calibMethod?: CalibMethod;
  calibSamples?: number;
}

const DEFAULTS = { lr: 1e-4, optimizer: 'adam', weightDecay: 0 } as const;
const WEIGHT_TYPES = ['int8', 'uint8', 'int4', 'uint4', 'ternary', 'binary'] as const;

const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function registerQat(program: Command): void {
  const cmd = program
    .command('qat')
    .description('quantization-aware training: fine-tune with fake quantization, write a static Q/DQ model')
    .argument('<input>', 'FP32 ONNX model (never modified; also the teacher with --distill)')
    .option('--distill', 'learn from the FP32 model too: α·H(y, σ(z_s)) + β·T²·H(σ(z_t/T), σ(z_s/T))')
    .option('--alpha <x>', 'distillation: weight of the label loss', nonNegativeNumber, 0.5)
    .option('--beta <x>', 'distillation: weight of the teacher loss', nonNegativeNumber, 0.5)
    .option('--temperature <x>', 'distillation: softmax temperature T', positiveNumber, 4)
    .option('--weight-type <type>', `${WEIGHT_TYPES.join(' | ')} (default int8)`, oneOf(WEIGHT_TYPES))
    .option('--act-type <type>', 'uint8 (default) | int8', oneOf(['uint8', 'int8'] as const))
    .option(
      '--learn-scales <how>',
      'lsq | pact | none (fixed scales, STE)',
      oneOf(['lsq', 'pact', 'none'] as const),
      'lsq',
    );
  addPlacementFlags(cmd)
    .option('--format <format>', 'qdq (default) | qoperator')
    .option(
      '--calib-data <path>',
      'data for the starting activation ranges (default: the first 512 training samples)',
    )
    .option('--calib-method <method>', 'minmax (default) | ema | percentile | entropy | mse | aciq | admm')
    .option('--calib-samples <n>', 'use the first N calibration samples', positiveInt);
  addTrainingFlags(cmd, DEFAULTS).action(async (input: string, flags: Flags) => {
    if (flags.weightType === 'binary') {
      throw new QuantkitError(
        '--weight-type binary is not available: {−α, +α} has no zero code, so neither FakeQuant ' +
          "(round and clip) nor DequantizeLinear's integer zero point can express it; use ternary",
      );
    }
    const bar = createProgressBar({ quiet: flags.quiet || flags.json });
    const model = loadModel(input);
    try {
      const options = await trainingOptions(model, flags, DEFAULTS);
      const calibration = flags.calibData
        ? await openSampleSource(flags.calibData, requiredInputs(model.graph), { limit: flags.calibSamples })
        : undefined;
      const request: QatRequest = {
        ...options,
        calibration,
        weightType: flags.weightType as QatRequest['weightType'],
        activationType: flags.actType,
        learnScales: flags.learnScales,
        distill: flags.distill
          ? { alpha: flags.alpha, beta: flags.beta, temperature: flags.temperature }
          : undefined,
        perChannel: flags.perChannel,
        symmetricWeights: flags.symmetricWeights,
        symmetricActivations: flags.symmetricActivations,
        reduceRange: flags.reduceRange,
        opTypes: list(flags.opTypes),
        excludeOpTypes: list(flags.excludeOpTypes),
        excludeNodes: list(flags.excludeNodes),
        target: flags.target,
        format: flags.format,
        calibMethod: flags.calibMethod,
        onProgress: bar.onProgress,
        onLog: trainLogger(flags, bar),
      };
      const { model: quantized, report } = await quantizeAwareTraining(model, request);
      bar.stop();
      const saved = saveModel(quantized, flags.output, { externalData: flags.externalData });
      if (flags.json) {
        console.log(JSON.stringify({ input, output: flags.output, bytes: saved.bytes, ...report }, null, 2));
        return;
      }
      const o = report.options;
      const acc =
        report.evalAccuracy === undefined
          ? ''
          : `; held-out top-1 ${(100 * report.evalAccuracy).toFixed(2)}% (fake-quant)`;
      console.log(
        `QAT ${input} → ${flags.output}: ${flags.weightType ?? o.weightType} weights${o.perChannel ? ' per channel' : ''}, ` +
          `${o.activationType} activations, scales ${report.learnScales}${flags.distill ? ', distilled' : ''}; ` +
          `${report.weights} weights and ${report.activations} activation scales, ${report.history.at(-1)?.step ?? 0} steps ` +
          `in ${report.seconds.toFixed(0)} s${acc}`,
      );
      for (const n of report.notes) console.log(`  note: ${n}`);
    } finally {
      bar.stop();
      model.dispose();
    }
  });
}
