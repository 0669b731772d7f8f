/**
 * What GPTQ and AWQ need to know about a layer's calibration inputs, captured without keeping them:
 * the Gram matrix XᵀX (K×K) of its input rows (one per token) and, for AWQ, the sum of |x| per
 * channel. A copy of the model computes both per batch inside ONNX Runtime (Reshape to [rows, K],
 * MatMul of the transpose by itself, ReduceSum of Abs: 29–37× faster on one thread than float64
 * typed-array loops, see bench/weight-only.ts) and returns only those; batches are summed here in
 * float64. Memory is K² per layer input, whatever the number of calibration tokens.
 *
 * Only the statistics are outputs of the copy, and nothing else is kept, so ONNX Runtime runs just
 * the part of the model that leads to the observed layers. Values inside If/Loop/Scan bodies are
 * carried out first (expose-values.ts; a Loop's iterations arrive stacked, which the reshape to rows
 * absorbs).
 */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { DtypeMap } from '../../onnx/infer-dtypes.js';
import type { Model } from '../../onnx/model.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { makeValueInfo } from '../../onnx/value-info.js';
import type { NdArray } from '../../tensor/ndarray.js';
import { exposeValues } from '../expose-values.js';

/** One layer input to observe: the value read by the layers (a MatMul's A), with K channels. */
export interface InputRequest {
  value: string;
  k: number;
  /** Also sum |x| per channel (AWQ). */
  absSum: boolean;
}

/** Sums over all calibration rows of one layer input. */
export class InputStatistics {
  /** Σ xᵀx, K×K row-major. */
  readonly gram: Float64Array;
  /** Σ |x| per channel (when requested). */
  readonly absSum: Float64Array | undefined;
  rows = 0;

  constructor(
    readonly k: number,
    absSum: boolean,
  ) {
    this.gram = new Float64Array(k * k);
    this.absSum = absSum ? new Float64Array(k) : undefined;
  }

  /** Mean |x| per channel. */
  absMean(): Float64Array {
    if (!this.absSum) throw new Error('|x| was not summed for this input');
    return this.absSum.map((v) => v / Math.max(this.rows, 1));
  }
}

export interface StatisticsOutputs {
  gram: string;
  shape: string;
  absSum?: string;
}

export interface StatisticsModel {
  model: Model;
  outputs: Map<string, StatisticsOutputs>;
}

/**
 * A copy of `model` whose outputs are the statistics of each requested input, per batch, and the
 * values named in `keep` (a segment's boundary, segment-walker.ts).
 */
export function statisticsModel(
  model: Model,
  requests: readonly InputRequest[],
  dtypes: DtypeMap,
  keep: readonly string[] = [],
): StatisticsModel {
  const exposed = exposeValues(
    model,
    requests.map((r) => r.value),
    dtypes,
  );
  if (exposed.unreachable.length > 0) {
    throw new QuantkitError(
      `cannot observe the layer inputs ${exposed.unreachable.join(', ')} (inside a custom operator's ` +
        'subgraph, or of unknown type): exclude their MatMuls or use --algorithm rtn',
    );
  }
  const copy = exposed.model;
  const g = copy.graph;
  const axesAsInput = (copy.opset('') ?? 1) >= 13;
  const outputs = new Map<string, StatisticsOutputs>();
  g.outputs = keep.map((name) => makeValueInfo(name, dtypes.get(name)));
  for (const r of requests) {
    const source = exposed.outputs.get(r.value)!;
    const name = (what: string) => g.uniqueName(`${r.value}_${what}`);
    const shapeConst = name('rows_shape');
    g.addInitializer(Tensor.fromArray(shapeConst, 'int64', [2], BigInt64Array.of(-1n, BigInt(r.k))));
    let input = source;
    const dtype = dtypes.get(r.value);
    if (dtype !== 'float32') {
      input = name('float');
      g.addNode(new Node('Cast', [source], [input], { attributes: [Attribute.int('to', 1)] }));
    }
    const rows = name('rows');
    const transposed = name('rows_t');
    const o: StatisticsOutputs = { gram: name('gram'), shape: name('rows_count') };
    g.addNode(new Node('Reshape', [input, shapeConst], [rows]));
    g.addNode(new Node('Transpose', [rows], [transposed], { attributes: [Attribute.ints('perm', [1, 0])] }));
    g.addNode(new Node('MatMul', [transposed, rows], [o.gram]));
    g.addNode(new Node('Shape', [rows], [o.shape]));
    g.outputs.push(makeValueInfo(o.gram, 'float32', [r.k, r.k]), makeValueInfo(o.shape, 'int64', [2]));
    if (r.absSum) {
      const abs = name('abs');
      o.absSum = name('abs_sum');
      g.addNode(new Node('Abs', [rows], [abs]));
      const attributes = [Attribute.int('keepdims', 0)];
      const inputs = [abs];
      if (axesAsInput) {
        const axes = name('axes');
        g.addInitializer(Tensor.fromArray(axes, 'int64', [1], BigInt64Array.of(0n)));
        inputs.push(axes);
      } else {
        attributes.push(Attribute.ints('axes', [0]));
      }
      g.addNode(new Node('ReduceSum', inputs, [o.absSum], { attributes }));
      g.outputs.push(makeValueInfo(o.absSum, 'float32', [r.k]));
    }
    outputs.set(r.value, o);
  }
  // What does not lead to the observed layers (later layers, the model's own outputs) is dropped, so
  // that neither the session nor the passes carry it.
  g.removeDeadNodes();
  g.removeUnusedInitializers();
  return { model: copy, outputs };
}

/** What collecting needs from a runtime session: one batch in, the named outputs back. */
export interface StatisticsRunner {
  run(feeds: Record<string, NdArray>, fetch: readonly string[]): Promise<Record<string, NdArray>>;
}

/**
 * Runs every batch through the statistics model and sums its outputs per input. `also` names further
 * outputs to fetch, handed to `onBatch` with each batch's results (a segment's boundary values).
 */
export async function collectInputStatistics(
  runner: StatisticsRunner,
  batches: AsyncIterable<Record<string, NdArray>>,
  requests: readonly InputRequest[],
  outputs: ReadonlyMap<string, StatisticsOutputs>,
  also: readonly string[] = [],
  onBatch?: (out: Record<string, NdArray>) => void,
): Promise<Map<string, InputStatistics>> {
  const stats = new Map(requests.map((r) => [r.value, new InputStatistics(r.k, r.absSum)]));
  const fetch = [...outputs.values()].flatMap((o) => [o.gram, o.shape, ...(o.absSum ? [o.absSum] : [])]);
  let any = false;
  for await (const feeds of batches) {
    any = true;
    const out = await runner.run(feeds, [...fetch, ...also]);
    for (const [value, o] of outputs) {
      const s = stats.get(value)!;
      const gram = out[o.gram].data as Float32Array;
      for (let i = 0; i < gram.length; i++) s.gram[i] += gram[i];
      s.rows += Number((out[o.shape].data as BigInt64Array)[0]);
      if (o.absSum && s.absSum) {
        const abs = out[o.absSum].data as Float32Array;
        for (let i = 0; i < abs.length; i++) s.absSum[i] += abs[i];
      }
    }
    onBatch?.(out);
  }
  if (!any) throw new QuantkitError('the calibration data holds no samples');
  return stats;
}
