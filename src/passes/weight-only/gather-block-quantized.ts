/**
 * Token embeddings as com.microsoft.GatherBlockQuantized: a Gather (axis 0) of rows from a constant
 * [V, H] float table becomes a gather from the table quantized in blocks along H, one scale (and zero
 * point) per row and block, dequantized by ONNX Runtime as it gathers. Only the rows used are ever
 * expanded, so the table stays small in memory too (a DequantizeLinear before a plain Gather would
 * expand all of it). Opt-in, as in ONNX Runtime's quantizer: `opTypes` must name Gather.
 *
 * Layout, as ONNX Runtime 1.30's CPU kernel runs it (checked by running it, test/passes/weight-only):
 * data uint8 [V, ceil(H·bits/8)], each row's codes packed from the lowest bits up (MatMulNBits'
 * packing, without padding to whole blocks); attribute `bits` 2, 4 or 8; scales float [V, blocks];
 * zero_points uint8 [V, ceil(blocks·bits/8)] packed likewise, absent meaning 2^(bits−1);
 * gather_axis 0, quantize_axis 1, block_size.
 */
import type { BlockQuantized } from '../../algorithms/blocked-weight.js';
import { describeBlockQuant, quantizeBlocks } from '../../algorithms/weight-quantizer.js';
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import { Node } from '../../onnx/node.js';
import type { TensorSink } from '../../onnx/tensor-sink.js';
import { Tensor } from '../../onnx/tensor.js';
import { assertFinite } from '../../quant/finite.js';
import { swapLastAxes } from '../dynamic/transpose.js';
import { nodeSelected } from '../node-filter.js';
import { filterReason, type NodeOutcome, nodeOutcome } from '../pass-report.js';
import { constantFloat, constantMatrix, type ConstantTensor } from './constant-matrix.js';
import { MS_DOMAIN } from './matmul-nbits.js';
import { packNBitsZeroPoints } from './nbits-layout.js';
import type { ResolvedWeightOnlyOptions } from './options.js';
import { WeightCache } from './weight-cache.js';

/** The part of the weight-only report this pass adds to. */
export interface EmbeddingReport {
  nodes: NodeOutcome[];
  floatBytes: number;
  quantizedBytes: number;
}

interface GatherWeight {
  inputs: string[];
  bytes: number;
}

/** Rewrites every selected Gather of a constant float table, in every graph, adding to `report`. */
export function quantizeEmbeddings(
  model: Model,
  o: ResolvedWeightOnlyOptions,
  sink: TensorSink | undefined,
  report: EmbeddingReport,
): void {
  const cache = new WeightCache<GatherWeight>();
  for (const { node, graph } of [...model.graph.walk()]) {
    // Gathers of run-time values (shapes, activations) are not tables: they are not even reported.
    if (!node.isStandard || node.opType !== 'Gather') continue;
    if (typeof constantFloat(graph, node.inputs[0]) === 'string') continue;
    const outcome = (done: boolean, note: string) => report.nodes.push(nodeOutcome(node, graph, done, note));
    if (!nodeSelected(node, o.filter)) {
      outcome(false, filterReason(node, o.filter));
      continue;
    }
    const table = gatheredTable(node, graph, o);
    if (typeof table === 'string') {
      outcome(false, table);
      continue;
    }
    const [v, h] = table.tensor.dims;
    const weight = cache.get(table, 'gather', () => {
      const made = addGatherWeight(table.owner, table.tensor.name, quantizeRows(table.tensor, v, h, o), sink);
      report.floatBytes += table.tensor.byteLength;
      report.quantizedBytes += made.bytes;
      return made;
    });
    const attributes = [
      Attribute.int('bits', o.bits),
      Attribute.int('block_size', o.blockSize),
      Attribute.int('gather_axis', 0),
      Attribute.int('quantize_axis', 1),
    ];
    const [data, scales, zeroPoints] = weight.inputs;
    const inputs = zeroPoints ? [data, node.inputs[1], scales, zeroPoints] : [data, node.inputs[1], scales];
    const name = node.name ? graph.uniqueName(`${node.name}_Q${o.bits}`) : '';
    const gather = new Node('GatherBlockQuantized', inputs, [...node.outputs], {
      name,
      domain: MS_DOMAIN,
      attributes,
    });
    graph.addNode(gather, { before: node });
    graph.removeNode(node);
    outcome(
      true,
      `GatherBlockQuantized, ${o.bits}-bit blocks of ${o.blockSize} along each row, ${describeBlockQuant(o)}, ${v} × ${h}`,
    );
  }
  cache.dropUnused();
}

/** The constant [V, H] table the Gather reads rows of, or why it stays as it is. */
function gatheredTable(node: Node, graph: Graph, o: ResolvedWeightOnlyOptions): ConstantTensor | string {
  if (o.format !== 'qoperator') {
    return 'GatherBlockQuantized is a QOperator form (with --format qdq, a DequantizeLinear would expand the whole table at run time)';
  }
  const axis = node.getInt('axis', 0);
  if (axis !== 0) return `gathers along axis ${axis}; GatherBlockQuantized here gathers rows (axis 0)`;
  const table = constantMatrix(graph, node.inputs[0]);
  if (typeof table === 'string') return `the table '${node.inputs[0]}' ${table}`;
  const h = table.tensor.dims[1];
  if ((h * o.bits) % 8 !== 0) return `rows of ${h} ${o.bits}-bit codes do not fill whole bytes`;
  return table;
}

/** The [V, H] table quantized row by row in blocks along H: as a [K = H, N = V] weight, blocks run down K. */
function quantizeRows(table: Tensor, v: number, h: number, o: ResolvedWeightOnlyOptions): BlockQuantized {
  const rows = table.toFloat32();
  assertFinite(table.name, rows, [v, h]);
  return quantizeBlocks(swapLastAxes(rows, 1, v, h, new Float32Array(rows.length)), h, v, o);
}

/** Adds data, scales and zero points to `owner`: `inputs` are their names (zero points may be absent). */
function addGatherWeight(
  owner: Graph,
  base: string,
  q: BlockQuantized,
  sink: TensorSink | undefined,
): GatherWeight {
  // q's codes are column-major for [K = H, N = V], so row-major for the [V, H] table.
  const rowBytes = (q.k * q.bits) / 8;
  const data = new Uint8Array(q.n * rowBytes);
  for (let i = 0; i < q.codes.length; i++) {
    const bit = (i % q.k) * q.bits;
    data[Math.floor(i / q.k) * rowBytes + (bit >>> 3)] |= q.codes[i] << (bit & 7);
  }
  const tensors = [
    Tensor.fromArray(owner.uniqueName(`${base}_Q${q.bits}`), 'uint8', [q.n, rowBytes], data),
    Tensor.fromArray(owner.uniqueName(`${base}_scales`), 'float32', [q.n, q.blocks], q.scales),
  ];
  const zeroPoints = packNBitsZeroPoints(q);
  if (zeroPoints) {
    const name = owner.uniqueName(`${base}_zero_points`);
    tensors.push(Tensor.fromArray(name, 'uint8', [q.n, zeroPoints.length / q.n], zeroPoints));
  }
  let bytes = 0;
  for (const t of tensors) {
    owner.addInitializer(sink ? sink.store(t) : t);
    bytes += t.byteLength;
  }
  return { inputs: tensors.map((t) => t.name), bytes };
}
