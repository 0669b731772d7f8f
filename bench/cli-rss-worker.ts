/** Runs the quantkit CLI with the given arguments, then reports this process's peak RSS on stderr. */
import { peakRss } from './env.js';

process.argv = [process.argv[0], 'quantkit', ...process.argv.slice(2)];
await import('../src/cli/main.js');
process.stderr.write(`\nPEAK_RSS ${peakRss()}\n`);
