/**
 * `npm run demo`: quantkit on the bundled example model. For now: load it, summarize it, save it with
 * and without external data, and check in ONNX Runtime that the copies compute exactly the same.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, Runner, saveModel, summarizeModel } from '../src/index.js';
import { parseNpz } from '../src/tensor/npz.js';

const MODEL = join(import.meta.dirname, '..', 'test', 'fixtures', 'models', 'cnn_bn.onnx');
const INPUTS = join(import.meta.dirname, '..', 'test', 'fixtures', 'models', 'cnn_bn.input.npz');

const dir = mkdtempSync(join(tmpdir(), 'quantkit-demo-'));
try {
  const model = loadModel(MODEL);
  const s = summarizeModel(model);
  console.log(`model: ${MODEL}`);
  console.log(
    `  ${s.nodes} nodes: ${Object.entries(s.opCounts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(`  ${s.parameters} parameters, opsets ${JSON.stringify(s.opsets)}`);
  const inputs = parseNpz(readFileSync(INPUTS));
  const reference = await (await Runner.create(model)).run(inputs);
  for (const external of [false, true]) {
    const out = join(dir, external ? 'external.onnx' : 'inline.onnx');
    const saved = saveModel(model, out, { externalData: external });
    const copy = loadModel(out);
    const result = await (await Runner.create(copy)).run(inputs);
    const same = Buffer.from((result.output.data as Float32Array).buffer).equals(
      Buffer.from((reference.output.data as Float32Array).buffer),
    );
    console.log(
      `saved ${external ? 'with external data' : 'inline'}: ${saved.bytes} B${saved.externalData ? ` + ${saved.externalData.bytes} B data` : ''}; ONNX Runtime output ${same ? 'bit-identical' : 'DIFFERS'}`,
    );
    copy.dispose();
    if (!same) process.exitCode = 1;
  }
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
