/** `npm run bench [name...]`: runs the benchmarks, each printing ratios against a baseline measured in the same run. */
import { describeMachine } from './env.js';
import { benchIo } from './io.js';
import { benchPtq } from './ptq.js';
import { benchTargets } from './targets.js';
import { benchTraining } from './training.js';
import { benchWeightOnly } from './weight-only.js';
import { benchWeightOnlyStreaming } from './weight-only-streaming.js';

const BENCHES: Record<string, () => void | Promise<void>> = {
  io: benchIo,
  ptq: benchPtq,
  targets: benchTargets,
  training: benchTraining,
  'weight-only': benchWeightOnly,
  'weight-only-streaming': benchWeightOnlyStreaming,
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
console.log(describeMachine());
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) throw new Error(`unknown benchmark '${name}' (have: ${Object.keys(BENCHES).join(', ')})`);
  await bench();
}
