// Layer-by-layer calibration: walking the model one segment at a time gives each layer group the same
// input statistics as running the whole model, and no ONNX Runtime session ever holds more than one
// segment's weights, which is what lets AWQ and GPTQ quantize models larger than memory.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requiredInputs } from '../../../src/data/model-inputs.js';
import { openSampleSource, type SampleSource } from '../../../src/data/sample-source.js';
import { loadModel } from '../../../src/io/model-file.js';
import { inferDtypes } from '../../../src/onnx/infer-dtypes.js';
import type { Model } from '../../../src/onnx/model.js';
import { collectInputStatistics, statisticsModel } from '../../../src/passes/weight-only/layer-inputs.js';
import { layerGroups, stopFor } from '../../../src/passes/weight-only/layer-groups.js';
import { resolveWeightOnlyOptions } from '../../../src/passes/weight-only/options.js';
import { quantizeWeightOnlyCalibrated } from '../../../src/passes/weight-only/quantize-calibrated.js';
import { quantizeWeightOnly } from '../../../src/passes/weight-only/quantize-weight-only.js';
import { SegmentWalker } from '../../../src/passes/weight-only/segment-walker.js';
import { ortWeightCalibration } from '../../../src/pipeline/weight-calibration.js';
import type { NdArray } from '../../../src/tensor/ndarray.js';
import { chainWeight, layerShape, syntheticChain } from '../../helpers/synthetic-chain.js';
import { floatInput, outputCosine } from './models.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');

/** ONNX Runtime calibration over batches held in memory. */
function runtime(batches: Record<string, NdArray>[]) {
  const source: SampleSource = {
    path: '<memory>',
    inputs: [],
    sampleCount: batches.length,
    totalSamples: batches.length,
    fixedBatchSize: undefined,
    notes: [],
    async *batches() {
      yield* batches;
    },
  };
  return ortWeightCalibration(source, 1, undefined);
}

/** Float32 bytes of the initializers a model carries. */
function floatBytes(model: Model): number {
  let bytes = 0;
  for (const g of model.graph.graphs())
    for (const t of g.initializers.values()) if (t.dtype === 'float32') bytes += t.byteLength;
  return bytes;
}

describe('layer-by-layer calibration (segment walker)', () => {
  it('gives every layer group of the tiny LM the statistics the whole model gives', async () => {
    const lm = loadModel(join(EXAMPLES, 'models', 'tiny_lm.onnx'));
    const source = await openSampleSource(join(EXAMPLES, 'data', 'lm-calib.npy'), requiredInputs(lm.graph), {
      purpose: 'calibration',
      limit: 6,
    });
    const batches: Record<string, NdArray>[] = [];
    for await (const b of source.batches(3)) batches.push(b);
    const cal = runtime(batches);
    const groups = layerGroups(lm, resolveWeightOnlyOptions({ algorithm: 'gptq' }));
    assert.equal(groups.length, 17, 'q/k/v, o, fc_in, fc_out per block, and the head');
    const walker = new SegmentWalker(lm, cal);
    const opened: number[] = [];
    const counting = { ...cal, open: (m: Model) => (opened.push(floatBytes(m)), cal.open(m)) };
    const counted = new SegmentWalker(lm, counting);
    for (const group of groups) {
      const request = { value: group.value, k: group.k, absSum: true };
      const { stop, inclusive } = stopFor(lm, group);
      const got = (await walker.advance(stop, inclusive, [request])).get(group.value)!;
      await counted.advance(stop, inclusive, [request]);
      const built = statisticsModel(lm, [request], inferDtypes(lm));
      const runner = await cal.open(built.model);
      const whole = (await collectInputStatistics(runner, cal.batches(), [request], built.outputs)).get(
        group.value,
      )!;
      await runner.release();
      assert.equal(got.rows, whole.rows);
      let err = 0;
      let norm = 0;
      for (let i = 0; i < got.gram.length; i++) {
        err = Math.max(err, Math.abs(got.gram[i] - whole.gram[i]));
        norm = Math.max(norm, Math.abs(whole.gram[i]));
      }
      assert.ok(err <= 1e-5 * norm, `${group.value}: XᵀX differs by ${err} (max ${norm})`);
      const absErr = got.absSum!.reduce((m, v, i) => Math.max(m, Math.abs(v - whole.absSum![i])), 0);
      assert.ok(absErr <= 1e-4 * Math.max(...whole.absSum!), `${group.value}: Σ|x| differs by ${absErr}`);
    }
    // One session per group, each holding at most one block's weights (the embedding and 2 LayerNorms
    // before the first group; q, k, v, o, fc_in, fc_out at most), never the model's.
    assert.equal(opened.length, groups.length);
    const block = 4 * 192 * 192 * 4 + 2 * 192 * 768 * 4;
    assert.ok(Math.max(...opened) < block, `largest session: ${Math.max(...opened)} bytes`);
    assert.ok(floatBytes(lm) > 3 * block);
    await cal.close();
    lm.dispose();
  });

  it('GPTQ on a chain of 8 layers loads one layer per session and keeps the output', async () => {
    const spec = { layers: 8, width: 64, hidden: 256 };
    const chain = syntheticChain(spec);
    const reference = syntheticChain(spec);
    const batches = [0, 1, 2, 3].map((seed) => floatInput('x', [16, spec.width], seed + 10));
    const cal = runtime(batches);
    const opened: number[] = [];
    const report = await quantizeWeightOnlyCalibrated(
      chain,
      { algorithm: 'gptq', bits: 4, blockSize: 32 },
      { ...cal, open: (m) => (opened.push(floatBytes(m)), cal.open(m)) },
    );
    await cal.close();
    assert.equal(report.nodes.filter((n) => n.done).length, spec.layers);
    assert.equal(opened.length, spec.layers);
    const layer = layerShape(spec, 0)[0] * layerShape(spec, 0)[1] * 4;
    assert.ok(Math.max(...opened) <= layer, `sessions held ${opened.join(', ')} float bytes`);
    assert.equal(chainWeight(spec, 0).length * 4, layer);
    // Random weights lose at every layer; GPTQ still ends closer to the float output than rounding.
    const rtn = syntheticChain(spec);
    quantizeWeightOnly(rtn, { bits: 4, blockSize: 32 });
    const x = floatInput('x', [16, spec.width], 99);
    const [gptq, nearest] = [await outputCosine(reference, chain, x), await outputCosine(reference, rtn, x)];
    assert.ok(gptq > nearest && gptq > 0.98, `cosine to float: GPTQ ${gptq}, RTN ${nearest}`);
  });
});
