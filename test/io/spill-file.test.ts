// The scratch file quantized weights are streamed to: tensors read back what was stored, the file never
// shows in the folder, and a model saved from it holds the same bytes.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saveModel } from '../../src/io/model-file.js';
import { SpillFile } from '../../src/io/spill-file.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { runFile, withTempDir } from '../helpers/fixtures.js';

describe('SpillFile', () => {
  it('stores tensors out of memory, reads them back, and leaves no file behind', () =>
    withTempDir(async (dir) => {
      const out = join(dir, 'model.onnx');
      const spill = new SpillFile(out);
      try {
        assert.deepEqual(readdirSync(dir), [], 'unlinked as soon as it is open');
        const a = Tensor.fromArray('a', 'float32', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6));
        const b = Tensor.fromArray('b', 'int4', [3], Int8Array.of(-8, 0, 7));
        const [sa, sb] = [spill.store(a), spill.store(b)];
        assert.equal(sa.payload.kind, 'range');
        assert.deepEqual(Array.from(sa.toFloat32()), [1, 2, 3, 4, 5, 6]);
        assert.deepEqual(Array.from(sb.data() as Int8Array), [-8, 0, 7]);
        assert.equal(spill.size, 24 + 2);
        // A model whose weight lives in the spill file saves and runs like any other.
        const graph = makeGraph({
          nodes: [new Node('Add', ['x', 'a'], ['y'])],
          inputs: [makeValueInfo('x', 'float32', [2, 3])],
          outputs: [makeValueInfo('y', 'float32', [2, 3])],
          initializers: [sa],
        });
        saveModel(makeModel(graph, { opsets: { '': 17 } }), out);
      } finally {
        spill.close();
      }
      assert.throws(() => spill.read(0, 4), /was closed/);
      assert.deepEqual(readdirSync(dir), ['model.onnx']);
      const y = await runFile(out, {
        x: { dtype: 'float32', shape: [2, 3], data: new Float32Array(6).fill(10) },
      });
      assert.deepEqual(Array.from(y.y.data as Float32Array), [11, 12, 13, 14, 15, 16]);
    }));
});
