/**
 * One step of the I/O benchmark (make the model, the raw-I/O baseline, or load+save) in a fresh
 * process, so peak RSS belongs to that step alone. Prints {ms, maxRssBytes} as JSON.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { loadModel, saveModel } from '../src/io/model-file.js';
import { peakRss } from './env.js';
import { makeGraph, makeModel } from '../src/onnx/builders.js';
import { Node } from '../src/onnx/node.js';
import { Tensor } from '../src/onnx/tensor.js';
import { makeValueInfo } from '../src/onnx/value-info.js';

const LAYERS = 20;
const K = 2048;
const N = 3072; // 20 × 2048 × 3072 × 4 B ≈ 503 MB

/** A chain of MatMuls with pseudo-random weights (a cheap LCG: the content does not matter to I/O). */
function syntheticModel() {
  const nodes: Node[] = [];
  const inits: Tensor[] = [];
  let x = 'x';
  for (let i = 0; i < LAYERS; i++) {
    const w = new Float32Array(K * N);
    let s = i + 1;
    for (let j = 0; j < w.length; j++) {
      s = (Math.imul(s, 1664525) + 1013904223) | 0;
      w[j] = s / 2 ** 40;
    }
    inits.push(Tensor.fromArray(`w${i}`, 'float32', i % 2 === 0 ? [K, N] : [N, K], w));
    nodes.push(new Node('MatMul', [x, `w${i}`], [`h${i}`], { name: `mm${i}` }));
    x = `h${i}`;
  }
  const g = makeGraph({
    nodes,
    inputs: [makeValueInfo('x', 'float32', ['N', K])],
    outputs: [makeValueInfo(x, 'float32', ['N', K])],
    initializers: inits,
  });
  return makeModel(g, { opsets: { '': 17 } });
}

const [mode, input, output] = process.argv.slice(2);
const start = performance.now();
if (mode === 'make') {
  saveModel(syntheticModel(), input);
} else if (mode === 'raw') {
  const bytes = readFileSync(input);
  const fd = openSync(output, 'w');
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
  fsyncSync(fd); // quantkit's atomic save syncs before renaming; the baseline does the same
  closeSync(fd);
} else {
  const model = loadModel(input);
  saveModel(model, output);
  model.dispose();
}
const ms = performance.now() - start;
console.log(JSON.stringify({ ms, maxRssBytes: peakRss() }));
