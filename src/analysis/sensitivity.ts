/**
 * Layer sensitivity: quantize one layer (or one group of layers) alone, everything else float, and
 * measure how far the model's output moves from the float model's — with labels, in accuracy; always
 * in KL divergence of the softmax outputs (classifiers) and output SQNR. The caller builds each
 * candidate from one calibration (the same scales the full model gets), so a layer costs one cheap
 * evaluation.
 */
import { QuantkitError } from '../errors.js';
import type { Model } from '../onnx/model.js';
import type { Node } from '../onnx/node.js';
import { OP_RULES } from '../passes/qdq/op-rules.js';
import type { ProgressCallback } from '../progress.js';
import type { LayerGroup } from './layer-groups.js';
import { layerName } from './layers.js';
import type { CandidateMetrics, ReferenceRun } from './reference-run.js';

export interface Sensitivity {
  /** The layer's name, or the group's. */
  name: string;
  layers: string[];
  opTypes: string[];
  /** Constant weight elements of the layers. */
  weights: number;
  metrics: CandidateMetrics;
  /** Points of top-1 accuracy lost with only these layers quantized (labels given). */
  accuracyDrop?: number;
}

export interface SensitivityOptions {
  /** Measure on the first batches holding this many samples (default: all the reference holds). */
  samples?: number;
  onProgress?: ProgressCallback;
}

export async function measureSensitivity(
  groups: readonly LayerGroup[],
  build: (quantized: readonly Node[]) => Model,
  reference: ReferenceRun,
  opts: SensitivityOptions = {},
): Promise<Sensitivity[]> {
  const out: Sensitivity[] = [];
  for (const [i, group] of groups.entries()) {
    const metrics = await reference.measure(buildChecked(build, group), opts.samples);
    out.push({
      name: group.name,
      layers: group.nodes.map(layerName),
      opTypes: [...new Set(group.nodes.map((n) => n.opType))],
      weights: group.nodes.reduce((n, node) => n + weightCount(node), 0),
      metrics,
      ...(metrics.accuracy !== undefined &&
        metrics.referenceAccuracy !== undefined && {
          accuracyDrop: points(metrics.referenceAccuracy - metrics.accuracy),
        }),
    });
    opts.onProgress?.({ stage: 'sensitivity', done: i + 1, total: groups.length });
  }
  return out.sort(bySensitivity);
}

/** Most sensitive first: by accuracy lost, then by KL divergence, then by output SQNR. */
export function bySensitivity(a: Sensitivity, b: Sensitivity): number {
  const drop = (b.accuracyDrop ?? 0) - (a.accuracyDrop ?? 0);
  if (drop !== 0) return drop;
  const kl = (b.metrics.klDivergence ?? 0) - (a.metrics.klDivergence ?? 0);
  if (kl !== 0) return kl;
  return a.metrics.sqnrDb - b.metrics.sqnrDb;
}

/** A fraction as points, rounded to hide float noise (0.9325 − 0.9295 is 0.30 points, not 0.3000000000000027). */
export function points(fraction: number): number {
  return Math.round(fraction * 100 * 1e9) / 1e9;
}

function buildChecked(build: (quantized: readonly Node[]) => Model, group: LayerGroup): Model {
  try {
    return build(group.nodes);
  } catch (e) {
    if (e instanceof QuantkitError) throw e;
    throw new QuantkitError(`cannot quantize '${group.name}' alone: ${(e as Error).message}`);
  }
}

/** Elements of the node's constant weight inputs (Conv/Gemm/MatMul weights; biases excluded). */
export function weightCount(node: Node): number {
  const rule = OP_RULES[node.opType];
  if (!rule) return 0;
  let n = 0;
  for (const [i, role] of rule.inputs(node).entries()) {
    const t = node.inputs[i] ? node.graph?.findInitializer(node.inputs[i]) : undefined;
    if (t && role !== 'bias') n += t.size;
  }
  return n;
}
