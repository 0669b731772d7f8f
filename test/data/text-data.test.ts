// Text calibration: a text file tokenised with the model's tokenizer.json, cut into token windows.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openTextSource } from '../../src/data/text-data.js';
import { loadModel } from '../../src/io/model-file.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import type { Graph } from '../../src/onnx/graph.js';
import { Node } from '../../src/onnx/node.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import { Runner } from '../../src/runtime/session.js';
import { toArray } from '../helpers/arrays.js';
import { modelPath, withTempDir } from '../helpers/fixtures.js';
import { collect } from './sample-helpers.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'models');
const TOKENIZER = join(EXAMPLES, 'tiny_lm.tokenizer.json');
/** The tiny LM's vocabulary: token id = index of the character. */
const VOCAB: string[] = JSON.parse(readFileSync(join(EXAMPLES, 'tiny_lm.vocab.json'), 'utf8'));
const GENESIS =
  'In the beginning God created the heaven and the earth.\n' +
  'And the earth was without form, and void; and darkness was upon the face of the deep.\n';

function graphOf(path: string): Graph {
  const model = loadModel(path);
  model.dispose(); // the graph's structure stays usable; only weights would need the file
  return model.graph;
}

const ids = (text: string) => [...text].map((ch) => VOCAB.indexOf(ch));

describe('text calibration windows', () => {
  it('tokenises with the tiny LM tokenizer: ids are vocabulary indices, cut into windows of --calib-seq-len', () =>
    withTempDir(async (dir) => {
      const text = join(dir, 'genesis.txt');
      writeFileSync(text, GENESIS);
      const source = await openTextSource(text, graphOf(join(EXAMPLES, 'tiny_lm.onnx')), {
        tokenizer: TOKENIZER,
        seqLen: 16,
      });
      const windows = Math.floor(GENESIS.length / 16);
      assert.equal(source.sampleCount, windows);
      assert.equal(source.totalSamples, windows);
      assert.deepEqual(source.inputs, [
        { name: 'input_ids', dtype: 'int64', sampleShape: [16], batched: true },
      ]);
      assert.deepEqual(source.notes, [
        `calibration text '${text}': ${GENESIS.length} tokens → ${windows} windows of 16 ` +
          `(the last ${GENESIS.length % 16} tokens left out)`,
      ]);
      const batches = await collect(source, 3);
      assert.deepEqual(
        batches.map((b) => b.input_ids.shape),
        [
          [3, 16],
          [3, 16],
          [windows - 6, 16],
        ],
      );
      const got = batches.flatMap((b) => toArray(b.input_ids.data).map(Number));
      assert.deepEqual(got, ids(GENESIS.slice(0, windows * 16)));
      assert.ok(!got.includes(-1), 'every character of the text is in the vocabulary');
    }));

  it('--calib-samples keeps the first windows', () =>
    withTempDir(async (dir) => {
      const text = join(dir, 'genesis.txt');
      writeFileSync(text, GENESIS);
      const source = await openTextSource(text, graphOf(join(EXAMPLES, 'tiny_lm.onnx')), {
        tokenizer: TOKENIZER,
        seqLen: 32,
        limit: 2,
      });
      assert.equal(source.sampleCount, 2);
      const [batch] = await collect(source, 8);
      assert.deepEqual(toArray(batch.input_ids.data).map(Number), ids(GENESIS.slice(0, 64)));
    }));

  it('takes a fixed sequence length from the model and feeds a model ONNX Runtime runs', () =>
    withTempDir(async (dir) => {
      const text = join(dir, 'small-vocabulary.txt');
      // The fixture transformer embeds 50 tokens: characters up to 'l' (id 48).
      writeFileSync(text, 'a bad face, a black cage; hide, hide!\n'.repeat(2));
      const model = loadModel(modelPath('transformer')); // input_ids [batch, 16] int64
      try {
        const source = await openTextSource(text, model.graph, { tokenizer: TOKENIZER });
        assert.equal(source.inputs[0].sampleShape[0], 16);
        const [batch] = await collect(source, 2);
        const runner = await Runner.create(model);
        const out = Object.values(await runner.run(batch))[0];
        assert.equal(out.shape[0], 2);
        await runner.release();
      } finally {
        model.dispose();
      }
    }));

  it('fills attention_mask and position_ids of Hugging Face-style inputs', () =>
    withTempDir(async (dir) => {
      const text = join(dir, 'genesis.txt');
      writeFileSync(text, GENESIS);
      const graph = makeGraph({
        nodes: [
          new Node('Add', ['input_ids', 'attention_mask'], ['a']),
          new Node('Mul', ['a', 'position_ids'], ['y']),
        ],
        inputs: ['input_ids', 'attention_mask', 'position_ids'].map((n) =>
          makeValueInfo(n, 'int64', ['batch', 'sequence']),
        ),
        outputs: [makeValueInfo('y', 'int64', ['batch', 'sequence'])],
      });
      const model = makeModel(graph, { opsets: { '': 17 } });
      const source = await openTextSource(text, graph, { tokenizer: TOKENIZER, seqLen: 8, limit: 1 });
      const [batch] = await collect(source, 1);
      assert.deepEqual(toArray(batch.attention_mask.data).map(Number), Array(8).fill(1));
      assert.deepEqual(toArray(batch.position_ids.data).map(Number), [0, 1, 2, 3, 4, 5, 6, 7]);
      const runner = await Runner.create(model);
      const y = (await runner.run(batch)).y;
      // (id + 1) · position, from ONNX Runtime.
      assert.deepEqual(
        Array.from(y.data as BigInt64Array, Number),
        ids(GENESIS.slice(0, 8)).map((id, t) => (id + 1) * t),
      );
      await runner.release();
    }));

  it('refuses text shorter than a window, a missing length, and a file that is not a tokenizer', () =>
    withTempDir(async (dir) => {
      const text = join(dir, 'short.txt');
      writeFileSync(text, 'In the beginning');
      const lm = graphOf(join(EXAMPLES, 'tiny_lm.onnx'));
      await assert.rejects(openTextSource(text, lm, { tokenizer: TOKENIZER, seqLen: 64 }), {
        name: 'QuantkitError',
        message: new RegExp(`calibration text '.*short.txt' has 16 tokens, fewer than one window of 64`),
      });
      await assert.rejects(openTextSource(text, lm, { tokenizer: TOKENIZER }), {
        name: 'QuantkitError',
        message: /input 'input_ids' does not fix its sequence length; .*--calib-seq-len/,
      });
      const bad = join(dir, 'tokenizer.json');
      writeFileSync(bad, '{"model": {"type": "Nonsense"}}');
      await assert.rejects(openTextSource(text, lm, { tokenizer: bad, seqLen: 4 }), {
        name: 'QuantkitError',
        message: /tokenizer '.*tokenizer.json': not a Hugging Face tokenizer.json/,
      });
      await assert.rejects(openTextSource(join(dir, 'none.txt'), lm, { tokenizer: TOKENIZER, seqLen: 4 }), {
        name: 'QuantkitError',
        message: /calibration text '.*none.txt': no such file or directory/,
      });
    }));
});
