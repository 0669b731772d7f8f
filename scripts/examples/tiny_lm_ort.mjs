// Dev-time check of the exported tiny LM in ONNX Runtime, run by train_tiny_lm.py (from the repository
// root, so onnxruntime-node resolves from its node_modules):
//
//   node scripts/examples/tiny_lm_ort.mjs MODEL.onnx IDS.npy TORCH_LOGITS.npy
//
// Prints one JSON object: { perplexity, maxAbsDiff, version }: the perplexity of ONNX Runtime's logits on
// the windows in IDS.npy (int64 [N, T]; position t predicts token t+1, log-softmax in float64) and the
// largest difference from torch's logits (float32 [N, T, V]). Independent of quantkit's own code.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ort from 'onnxruntime-node';

function readNpy(path) {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/
    .exec(header)[1]
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order`);
  const body = buf.subarray(10 + headerLen);
  const bytes = new Uint8Array(body.byteLength);
  bytes.set(body);
  const types = { '<i8': BigInt64Array, '<f4': Float32Array };
  if (!types[descr]) throw new Error(`${path}: dtype ${descr}`);
  return { shape, data: new types[descr](bytes.buffer) };
}

const [modelPath, idsPath, torchPath] = process.argv.slice(2);
const ids = readNpy(idsPath);
const reference = readNpy(torchPath);
const [n, t] = ids.shape;
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2 });
const batch = 16;
let nll = 0;
let count = 0;
let maxAbsDiff = 0;
for (let start = 0; start < n; start += batch) {
  const rows = Math.min(batch, n - start);
  const input = new ort.Tensor('int64', ids.data.subarray(start * t, (start + rows) * t), [rows, t]);
  const { logits } = await session.run({ input_ids: input });
  const v = logits.dims[2];
  const out = logits.data;
  const ref = reference.data.subarray(start * t * v, (start + rows) * t * v);
  for (let i = 0; i < out.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(out[i] - ref[i]));
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < t - 1; p++) {
      const row = out.subarray((r * t + p) * v, (r * t + p + 1) * v);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let sum = 0;
      for (const x of row) sum += Math.exp(x - max);
      const target = Number(ids.data[(start + r) * t + p + 1]);
      nll += max + Math.log(sum) - row[target];
      count++;
    }
  }
}
await session.release();
const version = createRequire(import.meta.url)('onnxruntime-node/package.json').version;
console.log(JSON.stringify({ perplexity: Math.exp(nll / count), maxAbsDiff, version }));
