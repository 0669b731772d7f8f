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
import { QuantkitError } from '../../errors.js';
import { assertFinite } from '../../quant/finite.js';
import { nodeSelected } from '../node-filter.js';
import { filterReason, type NodeOutcome, nodeOutcome } from '../pass-report.js';
import { addBlockedWeight, type BlockedWeight, emitBlockedMatMul } from './blocked-dq.js';
import { quantizeEmbeddings } from './gather-block-quantized.js';
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

/**
 * How calibrated algorithms (quantize-calibrated.ts) take part: `nodes` limits the pass to these nodes
 * (the others are left alone and not reported), `quantize` supplies a weight's blocks (undefined: the
 * data-free quantizer), `note` adds to a rewritten node's line in the report.
 */
export interface CalibratedWeights {
  nodes?: ReadonlySet<Node>;
  quantize?(node: Node, p: Projection): BlockQuantized | undefined;
  note?(node: Node): string | undefined;
}

export function quantizeWeightOnly(
  model: Model,
  options: WeightOnlyOptions = {},
  calibrated?: CalibratedWeights,
): WeightOnlyReport {
  const o = resolveWeightOnlyOptions(options);
  if ((o.algorithm === 'awq' || o.algorithm === 'gptq') && !calibrated) {
    throw new QuantkitError(
      `${o.algorithm.toUpperCase()} needs calibration data (quantizeWeightOnlyCalibrated, or --calib-data)`,
    );
  }
  // Checked before any rewrite, so a model that cannot take the QDQ form is left as it was.
  const opset = o.format === 'qdq' ? opset21Change(model) : undefined;
  const heads = o.keepLmHead ? outputProjections(model.graph) : new Set<Node>();
  const cache = new WeightCache<NBitsWeight | BlockedWeight>();
  const report: WeightOnlyReport = { nodes: [], floatBytes: 0, quantizedBytes: 0 };
  for (const { node, graph } of [...model.graph.walk()]) {
    const project = node.isStandard ? PROJECTIONS[node.opType] : undefined;
    if (!project || (calibrated?.nodes && !calibrated.nodes.has(node))) continue;
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
      const q = calibrated?.quantize?.(node, p) ?? quantizeMatrix(p, o);
      const { owner, tensor } = p.weight;
      const made =
        o.format === 'qoperator'
          ? addNBitsWeight(owner, tensor.name, q, options.sink)
          : addBlockedWeight(owner, tensor.name, q, o.blockSize, options.sink);
      report.floatBytes += tensor.byteLength;
      report.quantizedBytes += made.bytes;
      return made;
    });
    if (p.bias?.replaces) cache.replaced(p.bias.replaces);
    if (o.format === 'qoperator') emitMatMulNBits(graph, node, p, weight as NBitsWeight, o);
    else emitBlockedMatMul(graph, node, p, weight as BlockedWeight);
    const extra = calibrated?.note?.(node);
    outcome(true, describe(node, p, o) + (extra ? `; ${extra}` : ''));
  }
  // Token embeddings are opt-in, as in ONNX Runtime's quantizer; a calibrated pass limited to some nodes skips them.
  if (!calibrated?.nodes && o.filter.opTypes?.includes('Gather'))
    quantizeEmbeddings(model, o, options.sink, report);
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
