import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { QuantkitError } from '../../src/errors.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataLocation,
  TensorProtoSchema,
  ValueInfoProtoSchema,
} from '../../src/onnx/gen/onnx_pb.js';
import { fixtureInputs, modelPath, runFile, tensorBytes, withTempDir } from '../helpers/fixtures.js';

/** A one-initializer model (y = Identity(w)) built with the protobuf schema directly. */
function modelWithTensor(tensor: MessageInitShape<typeof TensorProtoSchema>): Uint8Array {
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })],
    graph: create(GraphProtoSchema, {
      name: 'g',
      node: [create(NodeProtoSchema, { opType: 'Identity', input: ['w'], output: ['y'] })],
      initializer: [create(TensorProtoSchema, { name: 'w', dataType: 1, dims: [2n], ...(tensor as object) })],
      output: [create(ValueInfoProtoSchema, { name: 'y' })],
    }),
  });
  return toBinary(ModelProtoSchema, model);
}

function externalAt(location: string) {
  const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  return {
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: [entry('location', location), entry('offset', '0'), entry('length', '8')],
  };
}

/** Loads and expects a QuantkitError whose one-line message names the file and matches `pattern`. */
function assertRefused(path: string, pattern: RegExp) {
  assert.throws(
    () => loadModel(path),
    (e: unknown) => {
      assert.ok(e instanceof QuantkitError, `expected a QuantkitError, got ${e}`);
      assert.ok(e.message.includes(path), `message names the file: ${e.message}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

describe('external data is confined to the model folder', () => {
  it('refuses a location that climbs out of the folder', () => {
    withTempDir((dir) => {
      mkdirSync(join(dir, 'model'));
      writeFileSync(join(dir, 'secret.bin'), new Uint8Array(8));
      writeFileSync(join(dir, 'model', 'm.onnx'), modelWithTensor(externalAt('../secret.bin')));
      assertRefused(
        join(dir, 'model', 'm.onnx'),
        /tensor 'w'.*'\.\.\/secret\.bin'.*outside the model's folder/,
      );
      writeFileSync(join(dir, 'model', 'm2.onnx'), modelWithTensor(externalAt('sub/../../secret.bin')));
      assertRefused(join(dir, 'model', 'm2.onnx'), /outside the model's folder/);
    });
  });

  it('refuses absolute locations', () => {
    withTempDir((dir) => {
      for (const loc of ['/etc/passwd', 'C:\\Windows\\win.ini', '\\\\server\\share\\x']) {
        writeFileSync(join(dir, 'm.onnx'), modelWithTensor(externalAt(loc)));
        assertRefused(join(dir, 'm.onnx'), /an absolute path/);
      }
    });
  });

  it('refuses a symbolic link that points outside the folder', () => {
    withTempDir((dir) => {
      mkdirSync(join(dir, 'model'));
      writeFileSync(join(dir, 'secret.bin'), new Uint8Array(8));
      symlinkSync(join(dir, 'secret.bin'), join(dir, 'model', 'data.bin'));
      writeFileSync(join(dir, 'model', 'm.onnx'), modelWithTensor(externalAt('data.bin')));
      assertRefused(join(dir, 'model', 'm.onnx'), /resolves outside the model's folder/);
    });
  });

  it('names a missing external-data file and where it was expected', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'm.onnx'), modelWithTensor(externalAt('weights.bin')));
      assertRefused(
        join(dir, 'm.onnx'),
        /external data file 'weights\.bin' is missing \(expected at .*weights\.bin\)/,
      );
    });
  });

  it('names a data file too short for the tensor', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(4));
      writeFileSync(join(dir, 'm.onnx'), modelWithTensor(externalAt('weights.bin')));
      assertRefused(
        join(dir, 'm.onnx'),
        /tensor 'w' reads bytes 0\.\.8 of 'weights\.bin', which has only 4 bytes/,
      );
    });
  });
});

describe('bad model files give one clear line', () => {
  const cnn = () => readFileSync(modelPath('cnn_bn'));

  it('truncated files', () => {
    withTempDir((dir) => {
      const bytes = cnn();
      for (const cut of [1, 10, 100, Math.floor(bytes.length / 2), bytes.length - 1]) {
        const p = join(dir, `cut${cut}.onnx`);
        writeFileSync(p, bytes.subarray(0, cut));
        assertRefused(p, /not (a valid|an) ONNX model/);
      }
    });
  });

  it('random bytes, an empty file, a folder', () => {
    withTempDir((dir) => {
      let seed = 7;
      const rnd = new Uint8Array(4096).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      writeFileSync(join(dir, 'random.onnx'), rnd);
      assertRefused(join(dir, 'random.onnx'), /not (a valid|an) ONNX model/);
      writeFileSync(join(dir, 'empty.onnx'), new Uint8Array(0));
      assertRefused(join(dir, 'empty.onnx'), /empty/);
      assertRefused(dir, /is a folder/);
      assertRefused(join(dir, 'nope.onnx'), /no such file/);
    });
  });

  it('a protobuf that is not a model', () => {
    withTempDir((dir) => {
      const tensor = toBinary(
        TensorProtoSchema,
        create(TensorProtoSchema, { name: 'x', dataType: 1, dims: [3n, 4n] }),
      );
      writeFileSync(join(dir, 'tensor.pb'), tensor);
      assertRefused(join(dir, 'tensor.pb'), /not (a valid|an) ONNX model/);
    });
  });

  it('an unknown element type', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'm.onnx'), modelWithTensor({ dataType: 99, rawData: new Uint8Array(8) }));
      assertRefused(join(dir, 'm.onnx'), /tensor 'w' has data type 99/);
    });
  });

  it('raw data that does not match the shape', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'm.onnx'), modelWithTensor({ rawData: new Uint8Array(5) }));
      assertRefused(join(dir, 'm.onnx'), /tensor 'w' has 5 bytes of raw_data, but float32\[2\] needs 8/);
    });
  });
});

describe('lazy loading', () => {
  it('reads weights from the file on demand and saves them byte-exact', async () => {
    await withTempDir(async (dir) => {
      const lazy = loadModel(modelPath('cnn_bn'), { lazy: true });
      const eager = loadModel(modelPath('cnn_bn'));
      for (const [name, t] of eager.graph.initializers) {
        assert.equal(lazy.graph.initializers.get(name)?.payload.kind, 'range');
        assert.deepEqual(lazy.graph.initializers.get(name)?.bytes(), t.bytes());
      }
      const out = join(dir, 'out.onnx');
      saveModel(lazy, out);
      lazy.dispose();
      const inputs = fixtureInputs('cnn_bn');
      const [a, b] = await Promise.all([runFile(modelPath('cnn_bn'), inputs), runFile(out, inputs)]);
      assert.deepEqual(tensorBytes(b.output), tensorBytes(a.output));
    });
  });

  it('saving over the file being read keeps reading the original', () => {
    withTempDir((dir) => {
      const p = join(dir, 'm.onnx');
      writeFileSync(p, readFileSync(modelPath('mlp')));
      const m = loadModel(p, { lazy: true });
      const before = m.graph.initializers.values().next().value!.bytes();
      saveModel(m, p, { externalData: true });
      saveModel(m, p);
      assert.deepEqual(m.graph.initializers.values().next().value!.bytes(), before);
      m.dispose();
    });
  });
});
