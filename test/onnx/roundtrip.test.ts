import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { equals, fromBinary } from '@bufbuild/protobuf';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { ModelProtoSchema } from '../../src/onnx/gen/onnx_pb.js';
import { fixtureInputs, modelPath, runFile, tensorBytes, withTempDir } from '../helpers/fixtures.js';

const RUNNABLE = [
  'cnn_bn',
  'mlp',
  'transformer',
  'transformer_opset17',
  'control_flow',
  'subgraph_scan',
  'dtypes',
  'dtypes_int4',
  'external/model',
  'external_multi/model',
];

async function assertSameOutputs(original: string, saved: string, name: string) {
  const inputs = fixtureInputs(name);
  const [a, b] = await Promise.all([runFile(original, inputs), runFile(saved, inputs)]);
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) {
    assert.deepEqual(b[k].dims, a[k].dims, `${name}: output ${k} shape`);
    assert.deepEqual(tensorBytes(b[k]), tensorBytes(a[k]), `${name}: output ${k} differs`);
  }
}

describe('load → save round trip', () => {
  for (const name of RUNNABLE) {
    it(`${name}: ONNX Runtime outputs are bit-identical, inline and with external data`, async () => {
      await withTempDir(async (dir) => {
        const model = loadModel(modelPath(name));
        const inline = join(dir, 'inline.onnx');
        const external = join(dir, 'external.onnx');
        saveModel(model, inline);
        const ext = saveModel(model, external, { externalData: { threshold: 0 } });
        model.dispose();
        assert.ok(ext.externalData && ext.externalData.bytes > 0, 'weights went to the side file');
        await assertSameOutputs(modelPath(name), inline, name);
        await assertSameOutputs(modelPath(name), external, name);
        // Reloading the externally stored copy and saving it inline closes the loop.
        const again = join(dir, 'again.onnx');
        const reloaded = loadModel(external);
        saveModel(reloaded, again);
        reloaded.dispose();
        await assertSameOutputs(modelPath(name), again, name);
      });
    });
  }

  for (const name of RUNNABLE.filter((n) => !n.includes('/'))) {
    it(`${name}: every field survives (protobuf message equality) and saving is deterministic`, () => {
      withTempDir((dir) => {
        const original = readFileSync(modelPath(name));
        const model = loadModel(original);
        saveModel(model, join(dir, 'a.onnx'));
        saveModel(loadModel(join(dir, 'a.onnx')), join(dir, 'b.onnx'));
        const a = readFileSync(join(dir, 'a.onnx'));
        assert.ok(
          equals(ModelProtoSchema, fromBinary(ModelProtoSchema, original), fromBinary(ModelProtoSchema, a)),
          `${name}: the saved ModelProto differs from the original`,
        );
        assert.deepEqual(readFileSync(join(dir, 'b.onnx')), a, 'second save is byte-identical');
      });
    });
  }
});
