/**
 * Constant folding: nodes computed from constants alone are evaluated once and replaced by
 * initializers, in every graph. This exposes weights hidden behind Transpose/Reshape/Cast/Mul chains
 * (tf2onnx and PyTorch exports are full of them) and removes shape arithmetic on constants.
 *
 * Evaluation is ONNX Runtime's job, but the core may not import it, so the caller passes `evaluate`
 * (src/runtime/evaluate-constants.ts in Node). Results that would grow the file (ConstantOfShape,
 * Expand, Tile of a few bytes into millions of elements) and results of types onnxruntime-node cannot
 * return stay computed at run time, and so does whatever they feed.
 */
import { QuantkitError } from '../../errors.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { storageBytes } from '../../tensor/dtype.js';
import type { NdArray } from '../../tensor/ndarray.js';
import { buildConstantModel } from './constant-model.js';
import { ConstantPlan, type FoldValue } from './constant-plan.js';

/** Runs `model` (which has no inputs) and returns the named outputs. */
export type EvaluateConstants = (model: Model, outputs: string[]) => Promise<Record<string, NdArray>>;

export interface FoldConstantsOptions {
  /**
   * A result larger than this many elements and more than twice the bytes of the constants it is
   * computed from is not stored (default 1M elements).
   */
  maxGrownElements?: number;
}

export interface FoldConstantsReport {
  /** Nodes replaced. */
  folded: number;
  /** Initializers created for their results. */
  initializers: number;
  /** One line per node that could have been folded but was not, and why. */
  notes: string[];
}

export async function foldConstants(
  model: Model,
  evaluate: EvaluateConstants,
  opts: FoldConstantsOptions = {},
): Promise<FoldConstantsReport> {
  const maxGrown = opts.maxGrownElements ?? 1 << 20;
  const excluded = new Set<Node>();
  const notes: string[] = [];
  const results = new ValueMap();
  for (;;) {
    const plan = new ConstantPlan(model, excluded);
    if (plan.unreadable.size > 0) {
      for (const [node, type] of plan.unreadable) {
        excluded.add(node);
        notes.push(`${node.label} is not folded: ONNX Runtime cannot hand back its ${type} result`);
      }
      continue;
    }
    const pending = plan.frontier.filter((v) => !results.has(v));
    if (pending.length > 0) {
      const { model: constants, outputs } = buildConstantModel(plan, pending);
      const got = await evaluate(constants, outputs);
      pending.forEach((v, i) => {
        const arr = got[outputs[i]];
        if (!arr)
          throw new QuantkitError(`constant folding: the evaluator returned no value for '${v.name}'`);
        results.set(v, arr);
      });
    }
    const memo = new Map<Node, number>();
    let grown = false;
    for (const v of plan.frontier) {
      const arr = results.get(v)!;
      const bytes = storageBytes(arr.dtype, arr.data.length);
      const source = plan.sourceBytes(v.node, memo);
      if (arr.data.length <= maxGrown || bytes <= 2 * source || excluded.has(v.node)) continue;
      excluded.add(v.node);
      grown = true;
      notes.push(
        `${v.node.label} is not folded: '${v.name}' would store ${arr.data.length} elements (${bytes} bytes) computed from ${source} bytes of constants`,
      );
    }
    if (grown) continue;
    for (const v of plan.frontier) {
      const arr = results.get(v)!;
      v.graph.addInitializer(Tensor.fromArray(v.name, arr.dtype, arr.shape, arr.data));
    }
    for (const node of plan.nodes) node.graph!.removeNode(node);
    return { folded: plan.nodes.length, initializers: plan.frontier.length, notes };
  }
}

/** Results by (graph, value name): plans are rebuilt, values stay the same. */
class ValueMap {
  private readonly byGraph = new Map<Graph, Map<string, NdArray>>();

  has(v: FoldValue): boolean {
    return this.byGraph.get(v.graph)?.has(v.name) ?? false;
  }

  get(v: FoldValue): NdArray | undefined {
    return this.byGraph.get(v.graph)?.get(v.name);
  }

  set(v: FoldValue, arr: NdArray): void {
    let m = this.byGraph.get(v.graph);
    if (!m) this.byGraph.set(v.graph, (m = new Map()));
    m.set(v.name, arr);
  }
}
