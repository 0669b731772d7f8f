// Dynamic quantization of the fixture models, each run in ONNX Runtime next to its float original.
//
// int8 weights are reduce-range (7-bit) by default: on x86 CPUs without VNNI (one kind of test
// machine), ONNX Runtime's u8×s8 kernels saturate with full-range int8 weights — measured on mlp:
// cosine 0.992 at full range, 0.99994 with reduce-range, 0.99998 with uint8 weights.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../../src/io/model-file.js';
import type { Model } from '../../../src/onnx/model.js';
import { constantsToInitializers } from '../../../src/passes/constants-to-initializers.js';
import { type DynamicOptions } from '../../../src/passes/dynamic/options.js';
import { quantizeDynamic, type DynamicReport } from '../../../src/passes/dynamic/quantize-dynamic.js';
import { fixtureInputs, modelPath } from '../../helpers/fixtures.js';
import { opCounts, optimizedOpCounts } from '../../helpers/optimized-ops.js';
import { modelBytes, outputDiff, runModel, top1Agreement } from './compare.js';

function quantized(name: string, options: DynamicOptions): { model: Model; report: DynamicReport } {
  const model = loadModel(modelPath(name));
  constantsToInitializers(model);
  return { model, report: quantizeDynamic(model, options) };
}

async function compare(name: string, model: Model) {
  const inputs = fixtureInputs(name);
  const [reference] = await runModel(loadModel(modelPath(name)), [inputs]);
  const [actual] = await runModel(model, [inputs]);
  return {
    diff: outputDiff(reference.output, actual.output),
    top1: top1Agreement(reference.output, actual.output, actual.output.shape.at(-1)!),
  };
}

describe('quantizeDynamic on the fixture models', () => {
  it('mlp: three Gemms fuse into DynamicQuantizeMatMul and outputs stay close', async () => {
    const { model, report } = quantized('mlp', {});
    assert.deepEqual(
      report.nodes.map((n) => [n.node, n.done]),
      [
        ['/fc1/Gemm', true],
        ['/fc2/Gemm', true],
        ['/fc3/Gemm', true],
      ],
    );
    assert.match(
      report.nodes[0].note,
      /^MatMulInteger, int8 7-bit \(reduce-range\) symmetric weights, per channel \(32 scales\)/,
    );
    assert.deepEqual(opCounts(model), {
      DynamicQuantizeLinear: 3,
      MatMulInteger: 3,
      Cast: 3,
      Mul: 6,
      Add: 3,
      Relu: 2,
    });
    assert.deepEqual(await optimizedOpCounts(model), { DynamicQuantizeMatMul: 3, Relu: 2 });
    const { diff, top1 } = await compare('mlp', model);
    assert.ok(diff.cosine > 0.9999, `cosine ${diff.cosine}`);
    assert.ok(diff.maxAbsDiff < 0.02 * diff.maxAbs, `max |Δ| ${diff.maxAbsDiff} of ${diff.maxAbs}`);
    assert.equal(top1, 1);
    // 14.6 kB of float weights become int8: the file shrinks to under half.
    assert.ok(modelBytes(model) < 0.45 * modelBytes(loadModel(modelPath('mlp'))));
  });

  it('mlp with uint8 weights: asymmetric per channel, fused the same way', async () => {
    const { model, report } = quantized('mlp', { weightType: 'uint8' });
    assert.match(report.nodes[0].note, /^MatMulInteger, uint8 asymmetric weights, per channel/);
    assert.deepEqual(await optimizedOpCounts(model), { DynamicQuantizeMatMul: 3, Relu: 2 });
    const { diff, top1 } = await compare('mlp', model);
    assert.ok(diff.cosine > 0.9999, `cosine ${diff.cosine}`);
    assert.equal(top1, 1);
  });

  for (const name of ['transformer', 'transformer_opset17']) {
    it(`${name}: weight MatMuls fuse, attention MatMuls stay float with a reason`, async () => {
      const { model, report } = quantized(name, {});
      const done = report.nodes.filter((n) => n.done);
      const kept = report.nodes.filter((n) => !n.done);
      assert.equal(done.length, 13); // 6 MatMuls per layer × 2 layers + the head Gemm
      assert.equal(kept.length, 4); // Q·Kᵀ and attention·V in each layer
      for (const k of kept) assert.match(k.note, /^B '.*' is computed at run time, not a constant$/);
      const fused = await optimizedOpCounts(model);
      // Q, K and V share one DynamicQuantizeLinear per layer: MatMulIntegerToFloat; the rest fuse whole.
      assert.equal(fused.MatMulIntegerToFloat, 6);
      assert.equal(fused.DynamicQuantizeMatMul, 7);
      assert.equal(fused.DynamicQuantizeLinear, 2);
      assert.equal(fused.MatMulInteger, undefined);
      const { diff, top1 } = await compare(name, model);
      assert.ok(diff.cosine > 0.9999, `cosine ${diff.cosine}`);
      assert.ok(diff.maxAbsDiff < 0.03 * diff.maxAbs, `max |Δ| ${diff.maxAbsDiff} of ${diff.maxAbs}`);
      assert.equal(top1, 1);
      assert.ok(modelBytes(model) < 0.6 * modelBytes(loadModel(modelPath(name))));
    });
  }

  it('cnn_bn: Convs become ConvInteger with uint8 weights, which ONNX Runtime runs unfused', async () => {
    const { model, report } = quantized('cnn_bn', { weightType: 'int8' });
    const convs = report.nodes.filter((n) => n.opType === 'Conv');
    assert.equal(convs.length, 3);
    for (const c of convs) {
      assert.ok(c.done);
      assert.match(
        c.note,
        /^ConvInteger, uint8 symmetric weights, per channel \(\d+ scales\) \(uint8 instead of int8/,
      );
    }
    const fused = await optimizedOpCounts(model);
    assert.equal(fused.ConvInteger, 3);
    assert.equal(fused.DynamicQuantizeMatMul, 1);
    assert.equal(fused.Conv, undefined);
    const { diff, top1 } = await compare('cnn_bn', model);
    assert.ok(diff.cosine > 0.9999, `cosine ${diff.cosine}`);
    assert.equal(top1, 1);
  });

  it('control_flow: weights in If branches, in a Loop body and outer-scope weights are quantized', async () => {
    const { model, report } = quantized('control_flow', {});
    assert.deepEqual(
      report.nodes.map((n) => [n.graph, n.node, n.done]),
      [
        ['main', 'const_matmul', true],
        ['if.else_branch', 'else_matmul', true],
        ['if.then_branch', 'then_matmul', true],
        ['loop.body', 'loop_matmul', true],
      ],
    );
    const main = model.graph;
    // The outer-scope weight both branches read is quantized once, in the main graph, and the float
    // originals are gone.
    assert.ok(main.initializers.has('if_weight_quantized'));
    for (const name of ['if_weight', 'const_weight']) assert.equal(main.initializers.has(name), false);
    const body = main.nodes.find((n) => n.opType === 'Loop')!.subgraphs()[0];
    assert.deepEqual([...body.initializers.keys()].sort(), [
      'loop_weight_quantized',
      'loop_weight_scale',
      'loop_weight_zero_point',
    ]);
    const fused = await optimizedOpCounts(model);
    assert.equal(fused.DynamicQuantizeMatMul, 4);
    const inputs = fixtureInputs('control_flow');
    const reference = loadModel(modelPath('control_flow'));
    for (const cond of [true, false]) {
      const feeds = {
        ...inputs,
        cond: { dtype: 'bool' as const, shape: [], data: Uint8Array.of(cond ? 1 : 0) },
      };
      const [[a], [b]] = [await runModel(reference, [feeds]), await runModel(model, [feeds])];
      const d = outputDiff(a.output, b.output);
      assert.ok(d.cosine > 0.999, `cond=${cond}: cosine ${d.cosine}`);
      // Up to five quantized MatMuls in a chain (the Loop runs its body three times).
      assert.ok(d.maxAbsDiff < 0.05 * d.maxAbs, `cond=${cond}: max |Δ| ${d.maxAbsDiff} of ${d.maxAbs}`);
    }
  });

  it('subgraph_scan: the MatMul inside the Scan body is quantized and fused', async () => {
    const { model, report } = quantized('subgraph_scan', {});
    assert.deepEqual(
      report.nodes.map((n) => [n.graph, n.node, n.done]),
      [['scan.body', 'scan_matmul', true]],
    );
    assert.deepEqual(await optimizedOpCounts(model), { Scan: 1, Add: 1, DynamicQuantizeMatMul: 1 });
    const inputs = fixtureInputs('subgraph_scan');
    const [[a], [b]] = [
      await runModel(loadModel(modelPath('subgraph_scan')), [inputs]),
      await runModel(model, [inputs]),
    ];
    const d = outputDiff(a.output, b.output);
    assert.ok(d.cosine > 0.9999 && d.maxAbsDiff < 0.02 * d.maxAbs, JSON.stringify(d));
  });
});
