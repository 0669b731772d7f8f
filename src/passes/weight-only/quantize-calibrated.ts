/**
 * Weight-only quantization with the calibrated algorithms, AWQ and GPTQ. Layers are grouped by the
 * value they read (q/k/v projections reading one LayerNormalization form one group); each group's
 * input statistics (layer-inputs.ts: XᵀX, Σ|x|) come from running the model on the calibration set
 * in ONNX Runtime one segment at a time (segment-walker.ts: only one segment's weights are ever loaded),
 * and each group's weights are written by quantizeWeightOnly as soon as they are chosen (to the sink,
 * when streaming), so neither the float nor the quantized model is ever held whole.
 *
 * - GPTQ goes layer by layer, as its paper does: the statistics of group i come from the model whose
 *   groups before i are already quantized, so each layer also corrects the error of those before it.
 *   One forward pass in all; only the current group's K×K statistics are held.
 * - AWQ searches its scales on the float model's activations (the paper's setting): a forward pass
 *   collects every group's statistics (several passes when they exceed STATISTICS_BUDGET), then groups
 *   are searched from the last to the first, each scale folded upstream at once (awq-scaling.ts). Folds
 *   preserve the model's function and change only the folded group's own input, so every search sees
 *   the weights as they will be quantized, including a later group's 1/s folded into an earlier layer's
 *   columns (never into a layer already written: producers come first in the graph). Each candidate
 *   scale is judged with every block's clipping range searched (algorithms/awq.ts).
 *
 * Pure: the caller supplies the runtime (sessions, calibration batches, AWQ's loss evaluation).
 */
import { type AwqEvaluator, awqSearch } from '../../algorithms/awq.js';
import { gptq } from '../../algorithms/gptq.js';
import type { RtnRule } from '../../algorithms/rtn.js';
import { NotPositiveDefinite } from '../../algorithms/linalg/cholesky.js';
import { QuantkitError } from '../../errors.js';
import { assertFinite } from '../../quant/finite.js';
import type { Model } from '../../onnx/model.js';
import type { ProgressCallback } from '../../progress.js';
import { applyChannelScales } from './awq-scaling.js';
import type { InputStatistics } from './layer-inputs.js';
import {
  type ResolvedWeightOnlyOptions,
  resolveWeightOnlyOptions,
  type WeightOnlyOptions,
} from './options.js';
import { weightMatrix } from './projection.js';
import { quantizeWeightOnly, type WeightOnlyReport } from './quantize-weight-only.js';
import { type SegmentRuntime, SegmentWalker } from './segment-walker.js';
import { distinctWeights, type Group, layerGroups, stopFor } from './layer-groups.js';

/** What the calibrated algorithms need from the runtime. */
export interface WeightCalibration extends SegmentRuntime {
  /** AWQ's candidate errors (algorithms/awq.ts). */
  awq: AwqEvaluator;
  onProgress?: ProgressCallback;
}

/** Bytes of float64 statistics one AWQ pass may hold (8·K² per group input). */
const STATISTICS_BUDGET = 1 << 30;

export async function quantizeWeightOnlyCalibrated(
  model: Model,
  options: WeightOnlyOptions,
  cal: WeightCalibration,
): Promise<WeightOnlyReport> {
  const o = resolveWeightOnlyOptions(options);
  if (o.algorithm !== 'awq' && o.algorithm !== 'gptq') {
    throw new QuantkitError(`quantizeWeightOnlyCalibrated runs awq and gptq, not ${o.algorithm}`);
  }
  for (const g of [...model.graph.graphs()]) g.sortTopologically();
  const groups = layerGroups(model, o);
  const rule = o.symmetric ? o.symmetricRule : 'asymmetric';
  const parts =
    o.algorithm === 'gptq'
      ? await gptqLayers(model, options, o, rule, groups, cal)
      : await awqLayers(model, options, o, rule, groups, cal);
  // Whatever no group holds (filtered, kept, or not calibratable) is reported, or rounded to nearest.
  parts.push(quantizeWeightOnly(model, options, { note: () => 'round-to-nearest (no calibrated input)' }));
  const report: WeightOnlyReport = { nodes: [], floatBytes: 0, quantizedBytes: 0 };
  for (const part of parts) {
    report.nodes.push(...part.nodes);
    report.floatBytes += part.floatBytes;
    report.quantizedBytes += part.quantizedBytes;
    report.opset ??= part.opset;
  }
  return report;
}

/** The groups' reports, in graph order. */
async function gptqLayers(
  model: Model,
  options: WeightOnlyOptions,
  o: ResolvedWeightOnlyOptions,
  rule: RtnRule,
  groups: readonly Group[],
  cal: WeightCalibration,
): Promise<WeightOnlyReport[]> {
  const parts: WeightOnlyReport[] = [];
  const walker = new SegmentWalker(model, cal);
  for (const [i, group] of groups.entries()) {
    const stats = (await statistics(walker, model, [group], false)).get(group.value)!;
    const part = quantizeWeightOnly(model, options, {
      nodes: new Set(group.members),
      quantize: (node, p) => {
        const weight = p.matrix();
        assertFinite(p.weight.tensor.name, weight, [p.k, p.n]);
        try {
          return gptq(
            weight,
            { k: p.k, n: p.n, bits: o.bits, blockSize: o.blockSize },
            stats.gram,
            rule,
            o.gptq,
          );
        } catch (e) {
          if (!(e instanceof NotPositiveDefinite)) throw e;
          throw new QuantkitError(
            `GPTQ: the damped Hessian of ${node.label}'s input '${group.value}' is not positive definite; ` +
              'raise --damp (e.g. 0.1) or give more calibration data',
          );
        }
      },
      note: () => `${stats.rows} calibration rows`,
    });
    parts.push(part);
    cal.onProgress?.({ stage: 'gptq', done: i + 1, total: groups.length });
  }
  return parts;
}

/** The groups' reports, in graph order. */
async function awqLayers(
  model: Model,
  options: WeightOnlyOptions,
  o: ResolvedWeightOnlyOptions,
  rule: RtnRule,
  groups: readonly Group[],
  cal: WeightCalibration,
): Promise<WeightOnlyReport[]> {
  const spec = { bits: o.bits, blockSize: o.blockSize, rule };
  const parts: WeightOnlyReport[] = [];
  const pending = [...groups].reverse();
  while (pending.length > 0) {
    const stage: Group[] = [];
    let bytes = 0;
    while (pending.length > 0 && (stage.length === 0 || bytes + 8 * pending[0].k ** 2 <= STATISTICS_BUDGET)) {
      bytes += 8 * pending[0].k ** 2;
      stage.push(pending.shift()!);
    }
    const stats = await statistics(new SegmentWalker(model, cal), model, [...stage].reverse(), true);
    for (const group of stage) {
      const s = stats.get(group.value)!;
      const layers = distinctWeights(group).map(({ node, weight }) => {
        const values = weightMatrix(node, weight);
        assertFinite(weight.tensor.name, values);
        return { node, weight: values, n: weight.tensor.size / group.k };
      });
      const r = await awqSearch(layers, group.k, s.gram, s.absMean(), spec, cal.awq);
      const gain =
        r.rtnError > 0
          ? ` (layer output error ${(100 * (1 - r.error / r.rtnError)).toFixed(1)}% below RTN)`
          : '';
      const where =
        r.alpha > 0 ? `; ${applyChannelScales(group.graph, group.value, group.members, r.scales)}` : '';
      const quantized = new Map(layers.map(({ node }, i) => [node, r.quantized[i]]));
      stats.delete(group.value);
      parts.push(
        quantizeWeightOnly(model, options, {
          nodes: new Set(group.members),
          quantize: (node) => quantized.get(node),
          note: () => `AWQ α = ${r.alpha.toFixed(3)}${gain}${where}`,
        }),
      );
      cal.onProgress?.({ stage: 'awq', done: parts.length, total: groups.length });
    }
  }
  return parts.reverse();
}

/**
 * The statistics of the groups' inputs, walked to in graph order; the walker keeps running from where
 * it stopped, so a caller that quantizes a group before asking for the next sees its effect.
 */
async function statistics(
  walker: SegmentWalker,
  model: Model,
  groups: readonly Group[],
  absSum: boolean,
): Promise<Map<string, InputStatistics>> {
  const out = new Map<string, InputStatistics>();
  for (const group of groups) {
    const { stop, inclusive } = stopFor(model, group);
    const stats = await walker.advance(stop, inclusive, [{ value: group.value, k: group.k, absSum }]);
    const s = stats.get(group.value)!;
    if (!s.gram.every(Number.isFinite)) {
      throw new QuantkitError(
        `the calibration data drove the layer input '${group.value}' to NaN or Infinity; check the data ` +
          '(token ids in range, the inputs the model expects) or use --algorithm rtn',
      );
    }
    out.set(group.value, s);
  }
  return out;
}
