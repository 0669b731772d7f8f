/**
 * Layer-by-layer calibration, the way GPTQ's reference runs models larger than its GPU: the main
 * graph is run forward one segment at a time over the whole calibration set, and only the values that
 * cross the cut (the residual stream, the next layer's input, the token ids) are kept between
 * segments, per batch. Each segment is its own small ONNX Runtime session holding only that segment's
 * weights, so the weights in memory at once are one segment's, never the model's.
 *
 * A segment ends right before the next layer group's first MatMul, so its input statistics (XᵀX,
 * Σ|x|, layer-inputs.ts) come from the boundary values. Groups inside an If/Loop/Scan body are cut
 * after the node that holds them and observed through it (expose-values.ts).
 *
 * Nodes that later steps rewrite (GPTQ replaces a group's MatMuls with MatMulNBits before the segment
 * holding them runs) are picked up as they are when their segment is built: the walker keeps the set of
 * nodes already run, not positions.
 */
import { QuantkitError } from '../../errors.js';
import { cloneNode } from '../../onnx/clone.js';
import { Graph } from '../../onnx/graph.js';
import { type DtypeMap, inferDtypes } from '../../onnx/infer-dtypes.js';
import { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { makeValueInfo } from '../../onnx/value-info.js';
import type { NdArray } from '../../tensor/ndarray.js';
import {
  collectInputStatistics,
  type InputRequest,
  type InputStatistics,
  type StatisticsRunner,
  statisticsModel,
} from './layer-inputs.js';

export interface SegmentRuntime {
  /** A session over `model` (a segment with its statistics outputs); released by the walker. */
  open(model: Model): Promise<StatisticsRunner & { release(): Promise<void> }>;
  /** One pass over the calibration set, as model-input batches. */
  batches(): AsyncIterable<Record<string, NdArray>>;
}

export class SegmentWalker {
  private readonly done = new Set<Node>();
  /** Per calibration batch, the values live at the current cut (starting with the model's inputs). */
  private boundary: Map<string, NdArray>[] | undefined;

  constructor(
    private readonly model: Model,
    private readonly runtime: SegmentRuntime,
  ) {}

  /**
   * Runs the main-graph nodes not yet run that come before `stop` in graph order (and `stop` itself
   * when `inclusive`), and returns the statistics of `requests` over the calibration set.
   */
  async advance(
    stop: Node,
    inclusive: boolean,
    requests: readonly InputRequest[],
  ): Promise<Map<string, InputStatistics>> {
    const main = this.model.graph;
    const order = main.nodes;
    const at = order.indexOf(stop);
    if (at < 0) throw new QuantkitError(`node ${stop.label} is not in the main graph`);
    const segment = order.slice(0, at + (inclusive ? 1 : 0)).filter((n) => !this.done.has(n));
    const ran = new Set([...this.done, ...segment]);
    const later = new Set<string>();
    for (const n of order) {
      if (ran.has(n)) continue;
      for (const name of [...n.inputs, ...main.implicitInputs(n)]) if (name) later.add(name);
    }
    const produced = new Set(segment.flatMap((n) => n.outputs.filter((o) => o !== '')));
    const keep = [...produced].filter((name) => later.has(name));
    const batches = this.boundary ?? (await materialise(this.runtime.batches()));
    const dtypes = inferDtypes(this.model);
    const built = statisticsModel(
      this.segmentModel(segment, new Set(batches[0].keys()), requests, dtypes),
      requests,
      dtypes,
      keep,
    );
    const next: Map<string, NdArray>[] = batches.map(
      (b) => new Map([...b].filter(([name]) => later.has(name) && !produced.has(name))),
    );
    const runner = await this.runtime.open(built.model);
    let i = 0;
    try {
      const feedNames = built.model.graph.inputs.map((v) => v.name);
      const stats = await collectInputStatistics(
        runner,
        (async function* () {
          for (const b of batches) yield Object.fromEntries(feedNames.map((name) => [name, b.get(name)!]));
        })(),
        requests,
        built.outputs,
        keep,
        (out) => {
          for (const name of keep) next[i].set(name, out[name]);
          i++;
        },
      );
      for (const n of segment) this.done.add(n);
      this.boundary = next;
      return stats;
    } finally {
      await runner.release();
    }
  }

  /**
   * The segment as a model: its nodes, the initializers they read, and the boundary values they read
   * as inputs (plus the requested values that are boundary values themselves).
   */
  private segmentModel(
    segment: readonly Node[],
    available: ReadonlySet<string>,
    requests: readonly InputRequest[],
    dtypes: DtypeMap,
  ): Model {
    const main = this.model.graph;
    const g = new Graph();
    g.name = main.name;
    const produced = new Set(segment.flatMap((n) => n.outputs));
    const reads = new Set(requests.map((r) => r.value));
    for (const n of segment) {
      g.addNode(cloneNode(n));
      for (const name of [...n.inputs, ...main.implicitInputs(n)]) if (name) reads.add(name);
    }
    for (const name of reads) {
      if (produced.has(name)) continue;
      const init = main.initializers.get(name);
      if (init) g.addInitializer(init);
      else if (available.has(name)) g.inputs.push(makeValueInfo(name, dtypes.get(name)));
    }
    return new Model(g, this.model.header);
  }
}

async function materialise(batches: AsyncIterable<Record<string, NdArray>>): Promise<Map<string, NdArray>[]> {
  const out: Map<string, NdArray>[] = [];
  for await (const b of batches) out.push(new Map(Object.entries(b)));
  if (out.length === 0) throw new QuantkitError('the calibration data holds no samples');
  return out;
}
