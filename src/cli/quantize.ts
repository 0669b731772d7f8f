/** `quantkit quantize IN.onnx -o OUT.onnx [options]` */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { addPlacementFlags } from './placement-flags.js';
import { describeBlockQuant } from '../algorithms/weight-quantizer.js';
import { QuantkitError } from '../errors.js';
import { checkReportPath, writeHtmlReport } from '../io/html-report.js';
import { loadModel, saveModel } from '../io/model-file.js';
import { spillFileFor } from '../io/spill-file.js';
import type { QuantizeOptions } from '../pipeline/options.js';
import { quantize, type QuantizeReport, type QuantizeRequest } from '../pipeline/quantize.js';
import { quantizeReportDocument } from '../report/quantize-report.js';
import { reportSubtitle } from '../report/subtitle.js';
import { formatBytes } from './format.js';
import { renderPlan } from './precision-plan.js';
import { addAnalysis } from './quantize-analysis.js';
import { createProgressBar } from './progress.js';

interface Flags {
  output: string;
  mode?: string;
  format?: string;
  calibData?: string;
  calibText?: string;
  tokenizer?: string;
  calibSeqLen?: string;
  preprocess?: string;
  calibMethod?: string;
  percentile?: string;
  calibSamples?: string;
  calibBatch?: string;
  weightType?: string;
  actType?: string;
  perChannel?: boolean;
  symmetricWeights?: boolean;
  asymmetricWeights?: boolean;
  symmetricActivations?: boolean;
  asymmetricActivations?: boolean;
  reduceRange?: boolean;
  opTypes?: string;
  excludeOpTypes?: string;
  excludeNodes?: string;
  target?: string;
  keepFloat32Ops?: string;
  bits?: string;
  blockSize?: string;
  symmetric?: boolean;
  asymmetric?: boolean;
  symmetricRule?: string;
  algorithm?: string;
  damp?: string;
  actOrder?: boolean;
  keepLmHead?: boolean;
  accuracyLevel?: string;
  externalData?: boolean;
  verify: boolean;
  calibrationTable?: string;
  threads?: string;
  config?: string;
  json?: boolean;
  report?: string;
  quiet?: boolean;
  keepFloat?: string;
  float16Fallback?: boolean;
  maxAccuracyDrop?: string;
  bitsBudget?: string;
  evalData?: string;
  evalLabels?: string;
  groupDepth?: string;
}

export function registerQuantize(program: Command): void {
  const cmd = program
    .command('quantize')
    .description('quantize a model: static (calibrated) or dynamic INT8, FP16, or 4/8-bit weight-only')
    .argument('<input>', 'ONNX model to quantize (never modified)')
    .requiredOption('-o, --output <path>', 'where to write the quantized model')
    .option(
      '--mode <mode>',
      'static | dynamic | fp16 | weight-only (default: static with --calib-data, else dynamic)',
    )
    .option(
      '--format <format>',
      'static: qdq (default) | qoperator; weight-only: qoperator (default, MatMulNBits) | qdq (opset 21)',
    )
    .option(
      '--calib-data <path>',
      '.npy (first axis = samples), .npz (one array per input), a folder of those, or of images',
    )
    .option(
      '--calib-text <file>',
      'plain-text calibration for language models: tokenised with --tokenizer, cut into windows',
    )
    .option('--tokenizer <file>', "--calib-text: the model's Hugging Face tokenizer.json")
    .option('--calib-seq-len <n>', "--calib-text: tokens per window (default: the input's fixed length)")
    .option(
      '--preprocess <spec>',
      "images: e.g. 'resize=256,crop=224,mean=0.485:0.456:0.406,std=0.229:0.224:0.225,layout=nchw'",
    )
    .option(
      '--calib-method <method>',
      'minmax (default) | ema | percentile | entropy | mse | aciq | admm | easyquant',
    )
    .option('--percentile <p>', 'percentile method: the percentile of |x| kept (default 99.999)')
    .option('--calib-samples <n>', 'use the first N calibration samples')
    .option('--calib-batch <n>', 'samples per calibration batch (default 32)')
    .option('--weight-type <type>', 'int8 (default) | uint8 | int4 | uint4 | int16')
    .option('--act-type <type>', 'uint8 (default) | int8 | int16 | uint16');
  addPlacementFlags(cmd)
    .option('--asymmetric-weights', 'weights use a zero point')
    .option('--asymmetric-activations', 'activations use the full range with a zero point (default)')
    .option('--no-verify', 'skip running the result next to the original in the target runtime')
    .option(
      '--calibration-table <dir>',
      'also write TensorRT calibration.cache and calibration.json into DIR',
    )
    .option('--keep-float32-ops <list>', 'fp16 mode: op types to keep in float32 besides the defaults')
    .option('--bits <n>', 'weight-only: 4 (default) | 8 | 2')
    .option('--block-size <n>', 'weight-only: weights per block along K, 16 | 32 (default) | 64 | 128 | 256')
    .option('--symmetric', 'weight-only: no zero points (default for rtn)')
    .option('--asymmetric', 'weight-only: a zero point per block (default for hqq)')
    .option('--symmetric-rule <rule>', 'weight-only: signed-max (default, as ONNX Runtime) | restricted')
    .option(
      '--algorithm <name>',
      'weight-only: rtn (default) | hqq | awq | gptq (awq and gptq need --calib-data)',
    )
    .option(
      '--damp <fraction>',
      'weight-only gptq: Hessian damping, a fraction of its mean diagonal (default 0.01)',
    )
    .option('--act-order', 'weight-only gptq: quantize input channels by descending activation energy')
    .option('--keep-lm-head', 'weight-only: leave the output projection in float')
    .option('--accuracy-level <n>', 'weight-only: MatMulNBits accuracy_level, 1 fp32 … 4 int8 activations')
    .option('--external-data', 'store the weights in a side file <output>_data')
    .option('--threads <n>', 'ONNX Runtime threads for calibration')
    .option('--config <file>', 'JSON file with any of these options (camelCase keys); flags override it')
    .option('--json', 'print the report as one JSON object')
    .option('--report <path>', 'also write the report as a self-contained HTML page')
    .option('--keep-float <n>', 'static: leave the N most sensitive layers in float')
    .option('--float16-fallback', 'static: layers left in float run in float16 instead of float32')
    .option(
      '--max-accuracy-drop <points>',
      'static: most sensitive layers back to float until the top-1 drop on --eval-data is within this many points',
    )
    .option('--bits-budget <bits>', 'static: mix 8- and 4-bit weights per layer to this average (4 to 8)')
    .option(
      '--eval-data <path>',
      'labelled data for --max-accuracy-drop, also used to rank layers by sensitivity',
    )
    .option('--eval-labels <path>', '.npy of class ids of the --eval-data samples')
    .option(
      '--group-depth <n>',
      'mixed precision: rank and keep float groups of layers sharing N name segments',
    )
    .option('--quiet', 'no progress bar')
    .action(async (input: string, flags: Flags) => {
      const output = flags.output;
      refuseOverwritingInput(input, output);
      if (flags.report) checkReportPath(flags.report);
      const request = { ...readConfig(flags.config), ...fromFlags(flags) };
      const bar = createProgressBar({ quiet: flags.quiet || flags.json });
      const model = loadModel(input);
      // Large models quantized weight-only keep one layer in memory: each weight goes to disk once made.
      const sink = request.mode === 'weight-only' ? spillFileFor(model, output) : undefined;
      try {
        const { model: quantized, report } = await quantize(model, {
          ...request,
          verify: flags.verify,
          calibrationTable: flags.calibrationTable,
          onProgress: bar.onProgress,
          weightSink: sink,
        });
        bar.stop();
        if (sink) report.notes.push(STREAMED_NOTE);
        const saved = saveModel(quantized, output, { externalData: flags.externalData });
        const before = modelBytes(input, model);
        const after = saved.bytes + (saved.externalData?.bytes ?? 0);
        if (flags.report) {
          const subtitle = reportSubtitle(program.version(), new Date());
          const doc = quantizeReportDocument(report, { input, output, bytes: { before, after }, subtitle });
          await addAnalysis(doc, model, quantized, report, request);
          writeHtmlReport(doc, flags.report);
        }
        if (flags.json) {
          console.log(
            JSON.stringify({ input, output, bytes: { before, after }, ...jsonReport(report) }, null, 2),
          );
        } else {
          console.log(render(input, output, report, before, after));
        }
      } finally {
        bar.stop();
        sink?.close();
        model.dispose();
      }
    });
}

function refuseOverwritingInput(input: string, output: string): void {
  let same = resolve(input) === resolve(output);
  try {
    same ||= realpathSync(input) === realpathSync(output);
  } catch {
    // The output does not exist yet.
  }
  if (same)
    throw new QuantkitError(
      `the output ${output} is the input model; choose another path (the input is never modified)`,
    );
}

function readConfig(path: string | undefined): QuantizeRequest {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new QuantkitError(`${path}: cannot read the config file: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new QuantkitError(`${path}: the config must be a JSON object of options`);
  }
  const known = new Set(CONFIG_KEYS);
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new QuantkitError(
      `${path}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${CONFIG_KEYS.join(', ')})`,
    );
  }
  return parsed as QuantizeRequest;
}

const CONFIG_KEYS = [
  'mode',
  'format',
  'calibration',
  'preprocess',
  'tokenizer',
  'calibSeqLen',
  'calibMethod',
  'percentile',
  'calibSamples',
  'calibBatch',
  'weightType',
  'activationType',
  'perChannel',
  'symmetricWeights',
  'symmetricActivations',
  'reduceRange',
  'opTypes',
  'excludeOpTypes',
  'excludeNodes',
  'target',
  'keepFloat32Ops',
  'bits',
  'blockSize',
  'symmetric',
  'symmetricRule',
  'algorithm',
  'damp',
  'actOrder',
  'keepLmHead',
  'accuracyLevel',
  'keepFloat',
  'float16Fallback',
  'maxAccuracyDrop',
  'bitsBudget',
  'evalData',
  'evalLabels',
];

/** Only the flags given on the command line, so that they override the config file and nothing else. */
function fromFlags(f: Flags): QuantizeRequest {
  const out: QuantizeRequest & Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  set('mode', f.mode as QuantizeOptions['mode']);
  set('format', f.format);
  set('calibration', f.calibData ?? f.calibText);
  Object.assign(out, textCalibration(f));
  set('preprocess', f.preprocess);
  set('calibMethod', f.calibMethod);
  set('percentile', number(f.percentile, '--percentile'));
  set('calibSamples', integer(f.calibSamples, '--calib-samples'));
  set('calibBatch', integer(f.calibBatch, '--calib-batch'));
  set('weightType', f.weightType);
  set('activationType', f.actType);
  set('perChannel', f.perChannel);
  set('symmetricWeights', pair(f.symmetricWeights, f.asymmetricWeights, 'weights'));
  set('symmetricActivations', pair(f.symmetricActivations, f.asymmetricActivations, 'activations'));
  set('reduceRange', f.reduceRange);
  set('opTypes', list(f.opTypes));
  set('excludeOpTypes', list(f.excludeOpTypes));
  set('excludeNodes', list(f.excludeNodes));
  set('target', f.target);
  set('keepFloat32Ops', list(f.keepFloat32Ops));
  set('bits', integer(f.bits, '--bits'));
  set('blockSize', integer(f.blockSize, '--block-size'));
  if (f.symmetric && f.asymmetric)
    throw new QuantkitError('--symmetric and --asymmetric contradict each other');
  set('symmetric', f.symmetric ? true : f.asymmetric ? false : undefined);
  set('symmetricRule', f.symmetricRule);
  set('algorithm', f.algorithm);
  set('damp', number(f.damp, '--damp'));
  set('actOrder', f.actOrder);
  set('keepLmHead', f.keepLmHead);
  set('accuracyLevel', integer(f.accuracyLevel, '--accuracy-level'));
  set('keepFloat', integer(f.keepFloat, '--keep-float'));
  set('float16Fallback', f.float16Fallback);
  set('maxAccuracyDrop', number(f.maxAccuracyDrop, '--max-accuracy-drop'));
  set('bitsBudget', number(f.bitsBudget, '--bits-budget'));
  set('evalData', f.evalData);
  set('evalLabels', f.evalLabels);
  const groupDepth = integer(f.groupDepth, '--group-depth');
  if (groupDepth !== undefined) out.sensitivity = { groupDepth };
  const threads = integer(f.threads, '--threads');
  if (threads !== undefined) out.runtime = { threads };
  return out;
}

const STREAMED_NOTE =
  'weights over 64 MB: each quantized weight went to disk as soon as it was made, one layer in memory at a time';

/** --calib-text's companions; --calib-data drops a tokenizer a config file may set. */
function textCalibration(f: Flags): QuantizeRequest {
  if (f.calibText === undefined) {
    const stray =
      f.tokenizer !== undefined ? '--tokenizer' : f.calibSeqLen !== undefined ? '--calib-seq-len' : '';
    if (stray) throw new QuantkitError(`${stray} goes with --calib-text FILE`);
    return f.calibData === undefined ? {} : { tokenizer: undefined, calibSeqLen: undefined };
  }
  if (f.calibData !== undefined) throw new QuantkitError('give --calib-data or --calib-text, not both');
  if (f.tokenizer === undefined) {
    throw new QuantkitError("--calib-text needs the model's tokenizer: --tokenizer tokenizer.json");
  }
  return { tokenizer: f.tokenizer, calibSeqLen: integer(f.calibSeqLen, '--calib-seq-len') };
}

function pair(sym: boolean | undefined, asym: boolean | undefined, what: string): boolean | undefined {
  if (sym && asym)
    throw new QuantkitError(`--symmetric-${what} and --asymmetric-${what} contradict each other`);
  return sym ? true : asym ? false : undefined;
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function number(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new QuantkitError(`${flag} takes a number, got '${v}'`);
  return n;
}

function integer(v: string | undefined, flag: string): number | undefined {
  const n = number(v, flag);
  if (n !== undefined && !Number.isSafeInteger(n))
    throw new QuantkitError(`${flag} takes a whole number, got '${v}'`);
  return n;
}

function modelBytes(path: string, model: ReturnType<typeof loadModel>): number {
  const external = new Set<string>();
  for (const g of model.graph.graphs())
    for (const t of g.initializers.values()) if (t.externalLocation) external.add(t.externalLocation);
  const dir = resolve(path, '..');
  return statSync(path).size + [...external].reduce((n, loc) => n + statSync(resolve(dir, loc)).size, 0);
}

/** One line: fusion, agreement and speed as the target runtime measured them. */
function verificationLine(v: NonNullable<QuantizeReport['verification']>): string {
  const parts: string[] = [];
  if (v.fused) parts.push(`${v.fused.fused} of ${v.fused.total} quantized layers fused into integer kernels`);
  if (v.tensorrt)
    parts.push(
      v.tensorrt.length === 0 ? 'TensorRT rules: pass' : `TensorRT rules: ${v.tensorrt.length} broken`,
    );
  if (v.agreement !== undefined) parts.push(`${(v.agreement * 100).toFixed(1)}% top-1 agreement with FP32`);
  if (v.sqnrDb !== undefined) parts.push(`output SQNR ${v.sqnrDb.toFixed(1)} dB`);
  if (v.speedup !== undefined) parts.push(`${v.speedup.toFixed(2)}× FP32 speed at batch ${v.batch}`);
  return `${parts.join(', ')} (${v.runtime}, ${v.samples} samples)`;
}

function jsonReport(r: QuantizeReport) {
  return {
    options: r.options,
    prepare: r.prepare,
    quantized: r.quantized,
    calibration: r.calibration,
    emit: r.emit,
    verification: r.verification,
    speed: r.speed,
    calibrationTable: r.calibrationTable,
    qoperator: r.qoperator,
    fp16: r.fp16,
    weightOnly: r.weightOnly,
    mixedPrecision: r.mixedPrecision,
    nodes: r.nodes,
    notes: r.notes,
    seconds: r.seconds,
  };
}

function render(input: string, output: string, r: QuantizeReport, before: number, after: number): string {
  const o = r.options;
  const lines: string[] = [];
  const how =
    o.mode === 'static'
      ? `static ${o.format.toUpperCase()}, ${o.activationType} activations / ${o.weightType} weights` +
        `${o.perChannel ? ' per channel' : ''}, ${r.calibration?.method} calibration on ${r.calibration?.samples} samples`
      : o.mode === 'dynamic'
        ? `dynamic, ${o.weightType} weights`
        : o.mode === 'weight-only'
          ? weightOnlyHow(o)
          : 'float16';
  lines.push(`${input} → ${output}  (${how})`);
  const p = r.prepare;
  const prep = [
    p.batchNormsFolded && `folded ${p.batchNormsFolded} BatchNormalization`,
    p.constantsFolded && `folded ${p.constantsFolded} constant nodes`,
    p.identitiesRemoved && `removed ${p.identitiesRemoved} Identity/Dropout`,
    p.constantsToInitializers && `${p.constantsToInitializers} Constant nodes to initializers`,
  ].filter(Boolean);
  if (prep.length > 0) lines.push(`  prepared: ${prep.join(', ')}`);
  const q = Object.entries(r.quantized).sort((a, b) => b[1] - a[1]);
  const total = q.reduce((n, [, c]) => n + c, 0);
  lines.push(`  quantized ${total} nodes: ${q.map(([op, n]) => `${op} ${n}`).join(', ') || 'none'}`);
  if (r.weightOnly) {
    const w = r.weightOnly;
    lines.push(
      `  weights: ${formatBytes(w.floatBytes)} → ${formatBytes(w.quantizedBytes)} ` +
        `(${(w.quantizedBytes / w.floatBytes).toFixed(3)}×)`,
    );
  }
  if (r.fp16) {
    const f = r.fp16;
    const converted = f.nodes.filter((n) => n.done).length;
    lines.push(
      `  float16: ${converted} of ${f.nodes.length} float nodes, ${f.initializers} initializers, ${f.casts} casts added`,
    );
  }
  lines.push(`  size: ${formatBytes(before)} → ${formatBytes(after)} (${(after / before).toFixed(2)}×)`);
  if (r.verification) lines.push(`  verified: ${verificationLine(r.verification)}`);
  if (r.mixedPrecision && o.mixedPrecision) lines.push(renderPlan(r.mixedPrecision));
  if (r.notes.length > 0) {
    lines.push('  notes:');
    for (const n of r.notes) lines.push(`    - ${n}`);
  }
  lines.push(`  done in ${r.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

function weightOnlyHow(o: QuantizeReport['options']): string {
  const w = o.weightOnly!;
  const form = w.format === 'qoperator' ? 'MatMulNBits' : 'blocked DequantizeLinear';
  return `weight-only ${w.bits}-bit, blocks of ${w.blockSize}, ${describeBlockQuant(w)}, ${form}`;
}
