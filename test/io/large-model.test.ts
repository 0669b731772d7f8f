/**
 * Models over protobuf's 2 GB limit: saved with external data automatically, loaded back lazily, and
 * run in ONNX Runtime. The weights come from a source that synthesizes zeros, so the test needs disk
 * (about 2.2 GB, skipped when there is not three times that free) but not memory.
 */
import assert from 'node:assert/strict';
import { statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import type { ByteSource } from '../../src/onnx/byte-source.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { PROTOBUF_LIMIT } from '../../src/onnx/encode.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';
import { withTempDir } from '../helpers/fixtures.js';

const zeros: ByteSource = {
  name: '<zeros>',
  size: 2 ** 40,
  read: (_offset, length) => new Uint8Array(length),
  readInto: (_offset, target) => target.fill(0),
};

const ELEMENTS = 2 ** 28 + 1024; // 1 GiB + 4 KiB of float32 per tensor, two tensors

function hugeModel() {
  const tensors = ['w1', 'w2'].map(
    (name) =>
      new Tensor(name, 'float32', [ELEMENTS], {
        kind: 'range',
        range: { source: zeros, offset: 0, length: ELEMENTS * 4 },
      }),
  );
  const g = makeGraph({
    nodes: [new Node('Shape', ['w1'], ['s1']), new Node('Shape', ['w2'], ['s2'])],
    inputs: [],
    outputs: [makeValueInfo('s1', 'int64', [1]), makeValueInfo('s2', 'int64', [1])],
    initializers: tensors,
  });
  return makeModel(g, { opsets: { '': 17 } });
}

const freeBytes = () => {
  const s = statfsSync(tmpdir());
  return s.bavail * s.bsize;
};

describe('models over 2 GB', { skip: freeBytes() < 7e9 ? 'needs 7 GB of free disk' : false }, () => {
  it('are saved with external data automatically, reload lazily and run in ONNX Runtime', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'huge.onnx');
      const result = saveModel(hugeModel(), path);
      assert.ok(result.externalData, 'external data was chosen without being asked for');
      assert.equal(result.externalData.path, join(dir, 'huge.onnx_data'));
      assert.ok(result.externalData.bytes > PROTOBUF_LIMIT);
      assert.ok(statSync(path).size < 4096, 'the model file holds only the structure');
      const m = loadModel(path);
      assert.equal(m.graph.initializers.get('w2')?.externalLocation, 'huge.onnx_data');
      const runner = await Runner.create(m, { optimization: 'disabled' });
      const out = await runner.run({});
      assert.deepEqual(Array.from(out.s2.data as BigInt64Array), [BigInt(ELEMENTS)]);
      await runner.release();
      m.dispose();
    });
  });
});
