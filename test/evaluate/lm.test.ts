import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recordBatches } from '../../src/data/batches.js';
import { requiredInputs } from '../../src/data/model-inputs.js';
import { openSampleSource } from '../../src/data/sample-source.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { lmInputs } from '../../src/evaluate/lm-inputs.js';
import { loadModel } from '../../src/io/model-file.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { modelPath } from '../helpers/fixtures.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const TINY_LM = join(EXAMPLES, 'models', 'tiny_lm.onnx');
const LM_HELDOUT = join(EXAMPLES, 'data', 'lm-heldout.npy');

/** The figures train_tiny_lm.py recorded for the bundled model. */
function tinyLmReference(): { heldoutTorch: number; heldoutOrt?: number } {
  const json = JSON.parse(readFileSync(join(EXAMPLES, 'models', 'reference.json'), 'utf8'));
  return json.tiny_lm.perplexity;
}

/**
 * input_ids [n, t] int64 and attention_mask [n, t] → logits [n, t, V] = table[input_ids] · mask: a
 * bigram "model" whose table row c scores the token after c. The mask is all ones when filled in, so
 * the logits are the table's rows.
 */
function bigramModel(table: Float32Array, vocab: number, withMask: boolean) {
  const nodes = [new Node('Gather', ['table', 'input_ids'], [withMask ? 'rows' : 'logits'])];
  if (withMask) {
    nodes.push(
      new Node('Cast', ['attention_mask'], ['mask_f'], { attributes: [Attribute.int('to', 1)] }),
      new Node('Unsqueeze', ['mask_f', 'last'], ['mask3']),
      new Node('Mul', ['rows', 'mask3'], ['logits']),
    );
  }
  return makeModel(
    makeGraph({
      nodes,
      inputs: [
        makeValueInfo('input_ids', 'int64', ['n', 't']),
        ...(withMask ? [makeValueInfo('attention_mask', 'int64', ['n', 't'])] : []),
      ],
      outputs: [makeValueInfo('logits', 'float32', ['n', 't', vocab])],
      initializers: [
        Tensor.fromArray('table', 'float32', [vocab, vocab], table),
        Tensor.fromArray('last', 'int64', [1], BigInt64Array.of(2n)),
      ],
    }),
  );
}

function ids(rows: number, steps: number, vocab: number, next: (c: number) => number): NdArray {
  const data = new BigInt64Array(rows * steps);
  for (let r = 0; r < rows; r++) {
    let c = r % vocab;
    for (let t = 0; t < steps; t++, c = next(c)) data[r * steps + t] = BigInt(c);
  }
  return { dtype: 'int64', shape: [rows, steps], data };
}

describe('evaluate --task lm', () => {
  it('uniform logits give perplexity V; attention_mask is filled in with ones', async () => {
    const vocab = 9;
    const model = bigramModel(new Float32Array(vocab * vocab), vocab, true);
    assert.deepEqual(lmInputs(model.graph), {
      tokens: 'input_ids',
      filled: [{ name: 'attention_mask', kind: 'ones', dtype: 'int64' }],
    });
    const input_ids = ids(6, 20, vocab, (c) => (c * 4 + 1) % vocab);
    const r = await evaluate(model, recordBatches({ input_ids }, 4), { task: 'lm', latency: { runs: 2 } });
    assert.equal(r.task, 'lm');
    assert.equal(r.input, 'input_ids');
    assert.equal(r.output, 'logits');
    assert.equal(r.samples, 6);
    assert.equal(r.tokens, 6 * 19);
    assert.ok(Math.abs(r.perplexity! - vocab) < 1e-9, `${r.perplexity}`);
    assert.ok(Math.abs(r.nll! - Math.log(vocab)) < 1e-12);
    assert.equal(r.latencyMs!.batch, 4);
    model.dispose();
  });

  it('a model that always knows the next token: perplexity 1; against a worse one, ratio and agreement', async () => {
    const vocab = 5;
    const next = (c: number) => (c + 2) % vocab;
    const sure = new Float32Array(vocab * vocab);
    for (let c = 0; c < vocab; c++) sure[c * vocab + next(c)] = 60;
    const unsure = new Float32Array(vocab * vocab);
    for (let c = 0; c < vocab; c++) unsure[c * vocab + (c % 2 === 0 ? next(c) : c)] = 1;
    const model = bigramModel(sure, vocab, false);
    const reference = bigramModel(unsure, vocab, false);
    const input_ids = ids(4, 10, vocab, next);
    const r = await evaluate(model, recordBatches({ input_ids }, 3), {
      task: 'lm',
      reference,
      latency: false,
    });
    assert.ok(Math.abs(r.perplexity! - 1) < 1e-12);
    assert.equal(r.accuracy, 1);
    assert.ok(r.reference!.perplexity! > 1.5);
    assert.ok(r.reference!.accuracy! < 1);
    assert.equal(r.comparison!.perplexityRatio, r.perplexity! / r.reference!.perplexity!);
    assert.equal(r.comparison!.perplexityDelta, r.perplexity! - r.reference!.perplexity!);
    assert.equal(r.comparison!.accuracyDelta, r.accuracy! - r.reference!.accuracy!);
    assert.equal(r.agreement, r.reference!.accuracy, 'the reference agrees exactly where it is right');
    assert.ok(r.sqnrDb! < 100, 'logits compared as outputs too');
    model.dispose();
    reference.dispose();
  });

  it('the bundled tiny LM: ONNX Runtime perplexity on lm-heldout.npy equals reference.json; vs itself ratio 1', async () => {
    const model = loadModel(TINY_LM);
    const data = await openSampleSource(LM_HELDOUT, requiredInputs(model.graph), { purpose: 'evaluation' });
    const r = await evaluate(model, data.batches(16), { task: 'lm', reference: model, latency: false });
    const expected = tinyLmReference();
    assert.equal(r.samples, 64);
    assert.equal(r.tokens, 64 * 127);
    for (const figure of [expected.heldoutTorch, expected.heldoutOrt ?? expected.heldoutTorch]) {
      assert.ok(Math.abs(r.perplexity! / figure - 1) < 0.005, `${r.perplexity} vs ${figure}`);
    }
    assert.ok(r.perplexity! < 5, 'the model has learned the text');
    assert.equal(r.reference!.perplexity, r.perplexity);
    assert.equal(r.comparison!.perplexityRatio, 1);
    assert.equal(r.comparison!.perplexityDelta, 0);
    assert.equal(r.agreement, 1);
    assert.equal(r.outputsIdentical, true);
    assert.equal(r.reference!.accuracy, r.accuracy);
    model.dispose();
  });

  it('refuses labels, and models without a token input', async () => {
    const model = loadModel(modelPath('mlp'));
    const x: NdArray = { dtype: 'float32', shape: [2, 64], data: new Float32Array(128) };
    await assert.rejects(
      evaluate(model, [{ input: x }], { task: 'lm', labels: Int32Array.of(0, 1), latency: false }),
      /labels are for classification/,
    );
    await assert.rejects(
      evaluate(model, [{ input: x }], { task: 'lm', latency: false }),
      /cannot tell which input holds the token ids/,
    );
    await assert.rejects(
      evaluate(model, [{ input: x }], { task: 'lm', input: 'input', latency: false }),
      /input 'input' is float32; token ids must be integers/,
    );
    model.dispose();
  });
});
