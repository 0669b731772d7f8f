/**
 * Weight-only quantization (DOMAIN.md §2, §6): the constant weight of every MatMul and Gemm becomes
 * `bits`-bit integers in blocks along K with a scale (and zero point) per block; activations stay
 * float. The QOperator form writes com.microsoft.MatMulNBits, the QDQ form blocked DequantizeLinear →
 * MatMul. Weights anywhere are handled: the main graph, If/Loop/Scan bodies, and outer-scope weights
 * read from inside a body. Runs after the preparation passes (weights behind Transpose/Constant
 * already folded into initializers).
 */
import type { BlockQuantized } from '../../algorithms/blocked-weight.js';
import {
  type BlockQuantSpec,
  describeBlockQuant,
  quantizeBlocks,
} from '../../algorithms/weight-quantizer.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { assertFinite } from '../../quant/finite.js';
import { nodeSelected } from '../node-filter.js';
import { filterReason, type NodeOutcome, nodeOutcome } from '../pass-report.js';
import { addBlockedWeight, type BlockedWeight, emitBlockedMatMul } from './blocked-dq.js';
import { outputProjections } from './lm-head.js';
import { addNBitsWeight, emitMatMulNBits, MS_DOMAIN, type NBitsWeight } from './matmul-nbits.js';
import { applyOpsetChange, opset21Change, type OpsetChange } from './opset-21.js';
import {
  type ResolvedWeightOnlyOptions,
  resolveWeightOnlyOptions,
  type WeightOnlyOptions,
} from './options.js';
import { gemmProjection, matmulProjection, type Projection } from './projection.js';
import { WeightCache } from './weight-cache.js';

export interface WeightOnlyReport {
  /** Every MatMul and Gemm, in graph order, with what was done or why not. */
  nodes: NodeOutcome[];
  /** Bytes of the float weights replaced (each counted once) and of their quantized form. */
  floatBytes: number;
  quantizedBytes: number;
  /** QDQ form: the default-domain opset raised for blocked DequantizeLinear. */
  opset?: OpsetChange;
}

const PROJECTIONS: Record<string, (node: Node, graph: Graph) => Projection | string> = {
  MatMul: matmulProjection,
  Gemm: gemmProjection,
};

export function quantizeWeightOnly(model: Model, options: WeightOnlyOptions = {}): WeightOnlyReport {
  const o = resolveWeightOnlyOptions(options);
  // Checked before any rewrite, so a model that cannot take the QDQ form is left as it was.
  const opset = o.format === 'qdq' ? opset21Change(model) : undefined;
  const heads = o.keepLmHead ? outputProjections(model.graph) : new Set<Node>();
  const cache = new WeightCache<NBitsWeight | BlockedWeight>();
  const report: WeightOnlyReport = { nodes: [], floatBytes: 0, quantizedBytes: 0 };
  for (const { node, graph } of [...model.graph.walk()]) {
    const project = node.isStandard ? PROJECTIONS[node.opType] : undefined;
    if (!project) continue;
    const outcome = (done: boolean, note: string) => report.nodes.push(nodeOutcome(node, graph, done, note));
    if (!nodeSelected(node, o.filter)) {
      outcome(false, filterReason(node, o.filter));
      continue;
    }
    if (heads.has(node)) {
      outcome(false, 'the output projection (keepLmHead)');
      continue;
    }
    const p = project(node, graph);
    if (typeof p === 'string') {
      outcome(false, p);
      continue;
    }
    const weight = cache.get(p.weight, p.form, () => {
      const q = quantizeMatrix(p, o);
      const { owner, tensor } = p.weight;
      const made =
        o.format === 'qoperator'
          ? addNBitsWeight(owner, tensor.name, q)
          : addBlockedWeight(owner, tensor.name, q, o.blockSize);
      report.floatBytes += tensor.byteLength;
      report.quantizedBytes += made.bytes;
      return made;
    });
    if (p.bias?.replaces) cache.replaced(p.bias.replaces);
    if (o.format === 'qoperator') emitMatMulNBits(graph, node, p, weight as NBitsWeight, o);
    else emitBlockedMatMul(graph, node, p, weight as BlockedWeight);
    outcome(true, describe(node, p, o));
  }
  cache.dropUnused();
  if (report.nodes.some((n) => n.done)) {
    if (opset) {
      applyOpsetChange(model, opset);
      report.opset = opset;
    }
    if (o.format === 'qoperator' && model.opset(MS_DOMAIN) === undefined) model.setOpset(MS_DOMAIN, 1);
  }
  for (const g of [...model.graph.graphs()]) g.sortTopologically();
  return report;
}

function quantizeMatrix(p: Projection, spec: BlockQuantSpec): BlockQuantized {
  const values = p.matrix();
  assertFinite(p.weight.tensor.name, values, [p.k, p.n]);
  return quantizeBlocks(values, p.k, p.n, spec);
}

function describe(node: Node, p: Projection, o: ResolvedWeightOnlyOptions): string {
  const form = o.format === 'qoperator' ? 'MatMulNBits' : 'DequantizeLinear → MatMul';
  const method = describeBlockQuant(o);
  const gemm =
    node.opType === 'Gemm'
      ? `; bias ${p.bias ? (p.bias.vector && o.format === 'qoperator' ? 'fused' : 'as Add') : 'none'}`
      : '';
  return `${form}, ${o.bits}-bit blocks of ${o.blockSize}, ${method}, K ${p.k} × N ${p.n}${gemm}`;
}
