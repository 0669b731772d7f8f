#!/usr/bin/env node
/** The `quantkit` command. Each subcommand lives in its own file and calls the library. */
import { Command } from 'commander';
import { isQuantkitError } from '../errors.js';
import { registerDebug } from './debug.js';
import { registerEval } from './eval.js';
import { registerInspect } from './inspect.js';
import { registerQat } from './qat.js';
import { registerQuantize } from './quantize.js';
import { registerSensitivity } from './sensitivity.js';
import { registerTargets } from './targets.js';
import { registerTrain } from './train.js';

const program = new Command();
program
  .name('quantkit')
  .description('Quantize ONNX models: calibrate, quantize (INT8/INT4/FP16), and verify, from Node.js.')
  .version('0.1.0')
  .option('--debug', 'show stack traces of errors');

registerInspect(program);
registerQuantize(program);
registerTargets(program);
registerEval(program);
registerDebug(program);
registerSensitivity(program);
registerTrain(program);
registerQat(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const debug = program.opts().debug === true || process.argv.includes('--debug');
  if (debug) console.error(e);
  else if (isQuantkitError(e)) console.error(`quantkit: error: ${e.message}`);
  else
    console.error(`quantkit: internal error: ${(e as Error)?.message ?? e} (run with --debug for details)`);
  process.exitCode = 1;
}
