import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel, saveModel } from '../../../src/io/model-file.js';
import { encodeModel, joinPieces } from '../../../src/onnx/encode.js';
import type { Model } from '../../../src/onnx/model.js';
import { tensorTypeOf } from '../../../src/onnx/value-info.js';
import { PREPARED_KEY, type PrepareReport, prepareModel } from '../../../src/passes/prepare/prepare-model.js';
import { evaluateConstants } from '../../../src/runtime/evaluate-constants.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { createRng } from '../../../src/tensor/random.js';
import { fixtureInputs, modelPath, withTempDir } from '../../helpers/fixtures.js';
import { assertIdentical, relativeError, runFile } from './run-model.js';

const SILERO = join(import.meta.dirname, '../../../node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx');

/** 512 samples of a 440 Hz sine plus noise at 16 kHz, zero LSTM state. */
function sileroInputs(): Record<string, NdArray> {
  const rng = createRng(7);
  const input = new Float32Array(512);
  for (let i = 0; i < input.length; i++)
    input[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 0.05 * (rng.nextFloat() - 0.5);
  return {
    input: { dtype: 'float32', shape: [1, 512], data: input },
    state: { dtype: 'float32', shape: [2, 1, 128], data: new Float32Array(256) },
    sr: { dtype: 'int64', shape: [], data: BigInt64Array.of(16000n) },
  };
}

const ZERO: Omit<PrepareReport, 'notes'> = {
  alreadyPrepared: false,
  constantsToInitializers: 0,
  identitiesRemoved: 0,
  constantsFolded: 0,
  batchNormsFolded: 0,
  deadNodesRemoved: 0,
  initializersRemoved: 0,
};

const signature = (m: Model) =>
  [...m.graph.inputs, ...m.graph.outputs].map((v) => ({ name: v.name, ...tensorTypeOf(v.type) }));
const encoded = (m: Model) => {
  const e = encodeModel(m);
  return joinPieces(e.pieces, e.bytes);
};
const opCount = (m: Model, op: string) => [...m.graph.walk()].filter(({ node }) => node.opType === op).length;

/**
 * Prepares the model file, saves the result and runs both files in ONNX Runtime; checks the report,
 * that inputs/outputs did not change, and that preparing again changes nothing. Returns outputs
 * computed without weight pre-packing (for exact comparison), and the largest relative difference
 * with ONNX Runtime's defaults.
 */
async function prepareFile(
  path: string,
  inputs: Record<string, NdArray>,
  expected: Omit<PrepareReport, 'alreadyPrepared' | 'notes'>,
): Promise<{ model: Model; before: Record<string, NdArray>; after: Record<string, NdArray>; error: number }> {
  const model = loadModel(path);
  const io = signature(model);
  const report = await prepareModel(model, { evaluate: evaluateConstants });
  assert.deepEqual(report, { ...expected, alreadyPrepared: false, notes: [] });
  assert.deepEqual(signature(model), io, 'inputs and outputs are unchanged');
  assert.ok(model.metadata()[PREPARED_KEY]);

  const bytes = encoded(model);
  assert.equal((await prepareModel(model, { evaluate: evaluateConstants })).alreadyPrepared, true);
  assert.deepEqual(encoded(model), bytes, 'second run is a no-op');
  // The passes themselves find nothing left to do.
  model.header.metadataProps = model.header.metadataProps.filter((p) => p.key !== PREPARED_KEY);
  assert.deepEqual(await prepareModel(model, { evaluate: evaluateConstants }), { ...ZERO, notes: [] });

  return withTempDir(async (dir) => {
    const out = join(dir, 'prepared.onnx');
    saveModel(model, out);
    const before = await runFile(path, inputs, { prepack: false });
    const after = await runFile(out, inputs, { prepack: false });
    const error = relativeError(
      await runFile(path, inputs, { prepack: true }),
      await runFile(out, inputs, { prepack: true }),
    );
    return { model, before, after, error };
  });
}

describe('prepareModel', () => {
  it('cnn_bn.onnx: all three BatchNormalization nodes folded into their Convs', async () => {
    const { model, before, after, error } = await prepareFile(modelPath('cnn_bn'), fixtureInputs('cnn_bn'), {
      ...ZERO,
      batchNormsFolded: 3,
      initializersRemoved: 12,
    });
    assert.equal(opCount(model, 'BatchNormalization'), 0);
    assert.equal(opCount(model, 'Conv'), 3);
    const exact = relativeError(before, after);
    assert.ok(exact > 0 && exact <= 1e-5, `relative error ${exact}`);
    assert.ok(error <= 1e-5, `relative error ${error} with pre-packing`);
  });

  it('transformer.onnx: its 24 Constant nodes become initializers; outputs bit-identical', async () => {
    const { model, before, after, error } = await prepareFile(
      modelPath('transformer'),
      fixtureInputs('transformer'),
      {
        ...ZERO,
        constantsToInitializers: 24,
      },
    );
    assert.equal(opCount(model, 'Constant'), 0);
    assertIdentical(before, after);
    assert.equal(error, 0);
  });

  it('control_flow.onnx: the Constant-node weight becomes an initializer, If/Loop bodies intact', async () => {
    const { model, before, after, error } = await prepareFile(
      modelPath('control_flow'),
      fixtureInputs('control_flow'),
      {
        ...ZERO,
        constantsToInitializers: 1,
      },
    );
    assert.equal(opCount(model, 'Identity'), 1, 'the loop body forwards its condition through an Identity');
    assertIdentical(before, after);
    assert.equal(error, 0);
  });

  it('Silero VAD v5: 341 Constants, 6 Identities, 96 constant nodes in If branches folded; same outputs', async () => {
    const { model, before, after, error } = await prepareFile(SILERO, sileroInputs(), {
      ...ZERO,
      constantsToInitializers: 341,
      identitiesRemoved: 6,
      constantsFolded: 96,
      initializersRemoved: 184,
    });
    assert.equal(opCount(model, 'Constant'), 0);
    assert.equal(opCount(model, 'Identity'), 28, 'branch Identities forwarding outer values stay');
    assert.ok((before.output.data as Float32Array)[0] > 0, 'the reference run produced a probability');
    assertIdentical(before, after);
    // With pre-packing, the LSTM weights that are now initializers are summed in another order.
    assert.ok(error > 0 && error <= 1e-5, `relative error ${error} with pre-packing`);
  });
});
