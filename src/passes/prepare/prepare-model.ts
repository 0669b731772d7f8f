/**
 * Brings a model to inference form before calibration and quantization (DOMAIN.md §5), on quantkit's
 * own IR so the result stays inspectable and tensor names stay matchable between the float and the
 * quantized model: Constant nodes → initializers, Identity/Dropout removal, constant folding,
 * BatchNormalization folding, then dead nodes and unused initializers go and every graph is sorted.
 * The model's inputs and outputs never change. A prepared model is marked, and preparing it again
 * does nothing.
 */
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import { constantsToInitializers } from '../constants-to-initializers.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { type EvaluateConstants, foldConstants } from './fold-constants.js';
import { removeIdentities } from './remove-identity.js';

/** Metadata key marking a prepared model; its value lists the passes that ran. */
export const PREPARED_KEY = 'quantkit.prepared';

export interface PrepareOptions {
  /** Runs constant subgraphs (src/runtime/evaluate-constants.ts in Node). */
  evaluate: EvaluateConstants;
  foldBatchNorm?: boolean;
  foldConstants?: boolean;
  removeIdentities?: boolean;
  /** See FoldConstantsOptions. */
  maxGrownElements?: number;
}

export interface PrepareReport {
  /** The model was already prepared; nothing was done. */
  alreadyPrepared: boolean;
  constantsToInitializers: number;
  identitiesRemoved: number;
  constantsFolded: number;
  batchNormsFolded: number;
  deadNodesRemoved: number;
  initializersRemoved: number;
  /** One line per thing left undone and why (a BatchNormalization that stays, a node not folded). */
  notes: string[];
}

export async function prepareModel(model: Model, options: PrepareOptions): Promise<PrepareReport> {
  const report: PrepareReport = {
    alreadyPrepared: PREPARED_KEY in model.metadata(),
    constantsToInitializers: 0,
    identitiesRemoved: 0,
    constantsFolded: 0,
    batchNormsFolded: 0,
    deadNodesRemoved: 0,
    initializersRemoved: 0,
    notes: [],
  };
  if (report.alreadyPrepared) return report;
  const passes = ['constants-to-initializers'];
  report.constantsToInitializers = constantsToInitializers(model);
  if (options.removeIdentities ?? true) {
    passes.push('remove-identity');
    report.identitiesRemoved = removeIdentities(model);
  }
  if (options.foldConstants ?? true) {
    passes.push('fold-constants');
    const r = await foldConstants(model, options.evaluate, { maxGrownElements: options.maxGrownElements });
    report.constantsFolded = r.folded;
    report.notes.push(...r.notes);
  }
  if (options.foldBatchNorm ?? true) {
    passes.push('fold-batchnorm');
    const r = foldBatchNorm(model);
    report.batchNormsFolded = r.folded;
    report.notes.push(...r.kept);
  }
  // Innermost graphs first: a dead reader inside a subgraph keeps outer values alive until it goes.
  const graphs = [...model.graph.graphs()].reverse();
  for (const g of graphs) report.deadNodesRemoved += g.removeDeadNodes();
  for (const g of [...model.graph.graphs()].reverse()) {
    report.initializersRemoved += removeUnusedInitializers(g);
    g.sortTopologically();
  }
  model.setMetadata(PREPARED_KEY, passes.join(','));
  return report;
}

/**
 * Like Graph.removeUnusedInitializers, except that an initializer which is also a graph input stays:
 * it is an input of the model, which preparing never changes.
 */
function removeUnusedInitializers(graph: Graph): number {
  let removed = 0;
  for (const name of [...graph.initializers.keys()]) {
    if (graph.consumers(name).length > 0 || graph.isGraphOutput(name) || graph.isGraphInput(name)) continue;
    graph.removeInitializer(name);
    removed++;
  }
  return removed;
}
