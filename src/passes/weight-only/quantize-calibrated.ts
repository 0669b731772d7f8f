/**
 * Weight-only quantization with the calibrated algorithms, AWQ and GPTQ. Layers are grouped by the
 * value they read (q/k/v projections reading one LayerNormalization form one group); each group's
 * input statistics (layer-inputs.ts: XᵀX, Σ|x|) come from running the model on the calibration set
 * in ONNX Runtime, and the weights are then written by quantizeWeightOnly.
 *
 * - GPTQ goes layer by layer, as its paper does: the statistics of group i come from the model whose
 *   groups before i are already quantized, so each layer also corrects the error of those before it.
 *   One calibration pass per group; only that group's K×K statistics are held.
 * - AWQ searches its scales on the float model's activations (the paper's setting): one pass collects
 *   every group's statistics (several when they exceed STATISTICS_BUDGET), then groups are searched
 *   from the last to the first, each scale folded upstream at once (awq-scaling.ts). Folds preserve the
 *   model's function and change only the folded group's own input, so every search sees the weights as
 *   they will be quantized, including a later group's 1/s folded into an earlier layer's columns.
 *   Then each weight's clipping ranges are searched on its scaled form, and its blocks rounded to
 *   nearest within them.
 *
 * Pure: the caller supplies the runtime (sessions, calibration batches, AWQ's loss evaluation).
 */
import { awqClip, type AwqEvaluator, awqSearch, clippedRtn, scaleRows } from '../../algorithms/awq.js';
import type { BlockQuantized } from '../../algorithms/blocked-weight.js';
import { gptq } from '../../algorithms/gptq.js';
import { NotPositiveDefinite } from '../../algorithms/linalg/cholesky.js';
import { QuantkitError } from '../../errors.js';
import { assertFinite } from '../../quant/finite.js';
import type { Graph } from '../../onnx/graph.js';
import { type DtypeMap, inferDtypes } from '../../onnx/infer-dtypes.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import type { ProgressCallback } from '../../progress.js';
import type { NdArray } from '../../tensor/ndarray.js';
import { nodeSelected } from '../node-filter.js';
import { applyChannelScales } from './awq-scaling.js';
import { constantMatrix } from './constant-matrix.js';
import {
  collectInputStatistics,
  type InputRequest,
  type InputStatistics,
  type StatisticsRunner,
  statisticsModel,
} from './layer-inputs.js';
import { outputProjections } from './lm-head.js';
import {
  type ResolvedWeightOnlyOptions,
  resolveWeightOnlyOptions,
  type WeightOnlyOptions,
} from './options.js';
import { weightMatrix } from './projection.js';
import { quantizeWeightOnly, type WeightOnlyReport } from './quantize-weight-only.js';

/** What the calibrated algorithms need from the runtime. */
export interface WeightCalibration {
  /** A session over `model` (any model the pass builds); released by the pass. */
  open(model: Model): Promise<StatisticsRunner & { release(): Promise<void> }>;
  /** One pass over the calibration set, as model-input batches. */
  batches(): AsyncIterable<Record<string, NdArray>>;
  /** AWQ's candidate errors (algorithms/awq.ts). */
  awq: AwqEvaluator;
  onProgress?: ProgressCallback;
}

/** Bytes of float64 statistics one AWQ pass may hold (8·K² per group input). */
const STATISTICS_BUDGET = 1 << 30;

/** Layers reading one value in one graph: they share calibration statistics (and AWQ's scales). */
interface Group {
  graph: Graph;
  value: string;
  k: number;
  members: Node[];
}

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
  // Quantized layers keep their output names, and their types are those of the float model.
  const dtypes = inferDtypes(model);
  const groups = layerGroups(model, o);
  return o.algorithm === 'gptq'
    ? gptqLayers(model, options, o, groups, dtypes, cal)
    : awqLayers(model, options, o, groups, dtypes, cal);
}

async function gptqLayers(
  model: Model,
  options: WeightOnlyOptions,
  o: ResolvedWeightOnlyOptions,
  groups: readonly Group[],
  dtypes: DtypeMap,
  cal: WeightCalibration,
): Promise<WeightOnlyReport> {
  const report: WeightOnlyReport = { nodes: [], floatBytes: 0, quantizedBytes: 0 };
  const rule = o.symmetric ? o.symmetricRule : 'asymmetric';
  for (const [i, group] of groups.entries()) {
    const stats = (await statistics(model, [group], dtypes, false, cal)).get(group.value)!;
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
    merge(report, part);
    cal.onProgress?.({ stage: 'gptq', done: i + 1, total: groups.length });
  }
  // Whatever no group holds (filtered, kept, or not calibratable) is reported, or rounded to nearest.
  merge(report, quantizeWeightOnly(model, options, { note: () => 'round-to-nearest (no calibrated input)' }));
  return report;
}

async function awqLayers(
  model: Model,
  options: WeightOnlyOptions,
  o: ResolvedWeightOnlyOptions,
  groups: readonly Group[],
  dtypes: DtypeMap,
  cal: WeightCalibration,
): Promise<WeightOnlyReport> {
  const spec = {
    bits: o.bits,
    blockSize: o.blockSize,
    rule: o.symmetric ? o.symmetricRule : ('asymmetric' as const),
  };
  const notes = new Map<Node, string>();
  const quantized = new Map<Node, BlockQuantized>();
  let done = 0;
  const pending = [...groups].reverse();
  while (pending.length > 0) {
    const stage: Group[] = [];
    let bytes = 0;
    while (pending.length > 0 && (stage.length === 0 || bytes + 8 * pending[0].k ** 2 <= STATISTICS_BUDGET)) {
      bytes += 8 * pending[0].k ** 2;
      stage.push(pending.shift()!);
    }
    const stats = await statistics(model, stage, dtypes, true, cal);
    for (const group of stage) {
      const s = stats.get(group.value)!;
      const layers = distinctWeights(group).map(({ node, weight }) => {
        const values = weightMatrix(node, weight);
        assertFinite(weight.tensor.name, values);
        return { weight: values, n: weight.tensor.size / group.k };
      });
      const r = await awqSearch(layers, group.k, s.gram, s.absMean(), spec, cal.awq);
      const gain =
        r.rtnError > 0
          ? ` (layer output error ${(100 * (1 - r.error / r.rtnError)).toFixed(1)}% below RTN)`
          : '';
      const where =
        r.alpha > 0 ? `; ${applyChannelScales(group.graph, group.value, group.members, r.scales)}` : '';
      for (const [i, { node }] of distinctWeights(group).entries()) {
        const { weight, n } = layers[i];
        const shape = { k: group.k, n, bits: o.bits, blockSize: o.blockSize };
        const scaled = scaleRows(weight, group.k, n, r.scales);
        const ratios = await awqClip(scaled, shape, s.gram, r.scales, spec.rule, cal.awq);
        quantized.set(node, clippedRtn(scaled, shape, spec.rule, ratios));
      }
      for (const node of group.members) notes.set(node, `AWQ α = ${r.alpha.toFixed(3)}${gain}${where}`);
      cal.onProgress?.({ stage: 'awq', done: ++done, total: groups.length });
    }
  }
  return quantizeWeightOnly(model, options, {
    quantize: (node) => quantized.get(node),
    note: (node) => notes.get(node),
  });
}

/** One calibration pass collecting the statistics of the groups' inputs. */
async function statistics(
  model: Model,
  groups: readonly Group[],
  dtypes: DtypeMap,
  absSum: boolean,
  cal: WeightCalibration,
): Promise<Map<string, InputStatistics>> {
  const requests: InputRequest[] = groups.map((g) => ({ value: g.value, k: g.k, absSum }));
  const built = statisticsModel(model, requests, dtypes);
  const runner = await cal.open(built.model);
  let stats: Map<string, InputStatistics>;
  try {
    stats = await collectInputStatistics(runner, cal.batches(), requests, built.outputs);
  } finally {
    await runner.release();
  }
  for (const [value, s] of stats) {
    if (!s.gram.every(Number.isFinite)) {
      throw new QuantkitError(
        `the calibration data drove the layer input '${value}' to NaN or Infinity; check the data ` +
          '(token ids in range, the inputs the model expects) or use --algorithm rtn',
      );
    }
  }
  return stats;
}

/**
 * The layers the calibrated algorithms take, grouped by input, in graph order: MatMul and Gemm nodes
 * that quantizeWeightOnly would rewrite, except Gemm with transA (its rows are A's columns; it is
 * rounded to nearest).
 */
function layerGroups(model: Model, o: ResolvedWeightOnlyOptions): Group[] {
  const heads = o.keepLmHead ? outputProjections(model.graph) : new Set<Node>();
  const groups = new Map<string, Group>();
  const graphIds = new Map<Graph, number>();
  for (const { node, graph } of model.graph.walk()) {
    if (!node.isStandard || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) continue;
    if (!nodeSelected(node, o.filter) || heads.has(node)) continue;
    if (node.opType === 'Gemm' && node.getInt('transA', 0) !== 0) continue;
    const weight = constantMatrix(graph, node.inputs[1]);
    if (typeof weight === 'string') continue;
    const [rows, cols] = weight.tensor.dims;
    const k = node.opType === 'Gemm' && node.getInt('transB', 0) !== 0 ? cols : rows;
    let id = graphIds.get(graph);
    if (id === undefined) graphIds.set(graph, (id = graphIds.size));
    const key = `${id}\u0000${node.inputs[0]}`;
    const group = groups.get(key) ?? { graph, value: node.inputs[0], k, members: [] };
    groups.set(key, group);
    if (group.k === k) group.members.push(node);
  }
  return [...groups.values()];
}

/** Each distinct weight of a group once (nodes sharing a weight share its quantized form). */
function distinctWeights(group: Group) {
  const seen = new Set<string>();
  const out = [];
  for (const node of group.members) {
    const weight = constantMatrix(group.graph, node.inputs[1]);
    if (typeof weight === 'string' || seen.has(weight.tensor.name)) continue;
    seen.add(weight.tensor.name);
    out.push({ node, weight });
  }
  return out;
}

function merge(into: WeightOnlyReport, part: WeightOnlyReport): void {
  into.nodes.push(...part.nodes);
  into.floatBytes += part.floatBytes;
  into.quantizedBytes += part.quantizedBytes;
  into.opset ??= part.opset;
}
