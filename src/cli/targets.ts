/** `quantkit targets [--json]`: what this machine is, the target profiles, and which one `auto` picks. */
import type { Command } from 'commander';
import { cpuFeatures } from '../runtime/latency.js';
import { resolveTarget, TARGETS } from '../targets/registry.js';
import { table } from './format.js';

export function registerTargets(program: Command): void {
  program
    .command('targets')
    .description('show the detected CPU, the target profiles, and which one --target auto picks here')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const cpu = cpuFeatures();
      const auto = resolveTarget('auto', cpu);
      const profiles = Object.values(TARGETS).map((p) => ({
        name: p.name,
        description: p.description,
        activations: `${p.activationType}${p.symmetricActivations ? ' symmetric' : ''}`,
        weights: `${p.weightType}${p.reduceRange ? ' 7-bit' : ''}${p.perChannel ? ' per channel' : ''}`,
        auto: p.name === auto.profile.name,
      }));
      if (opts.json) {
        console.log(JSON.stringify({ cpu, auto: auto.profile.name, reason: auto.reason, profiles }, null, 2));
        return;
      }
      console.log(
        `CPU: ${cpu.model} (${cpu.arch}, ${cpu.cores} cores; flags: ${cpu.flags.join(' ') || 'none detected'})`,
      );
      console.log(
        `--target auto on this machine → ${auto.reason.replace(/^target auto: this machine, /, '')}\n`,
      );
      const rows = profiles.map((p) => [
        `${p.auto ? '*' : ' '} ${p.name}`,
        p.activations,
        p.weights,
        p.description,
      ]);
      console.log(table(rows, ['  target', 'activations', 'weights', 'runs on']));
    });
}
