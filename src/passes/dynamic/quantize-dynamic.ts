/**
 * Dynamic quantization (DOMAIN.md §4): weights quantized now, activations at run time. MatMul and Gemm
 * become MatMulInteger chains that ONNX Runtime fuses, Conv becomes ConvInteger, LSTM becomes
 * DynamicQuantizeLSTM; every other weight-bearing op stays float, and the report says so node by node.
 * Weights anywhere are handled: in the main graph, in If/Loop/Scan bodies, and outer-scope weights read
 * from inside a body. Runs after the preparation passes (Constant nodes already initializers).
 */
import { QuantkitError } from '../../errors.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { nodeSelected } from '../node-filter.js';
import { filterReason, type NodeOutcome, nodeOutcome } from '../pass-report.js';
import { ActivationQuantizer } from './activations.js';
import type { DynamicContext, Rewrite } from './context.js';
import { quantizeConv } from './conv.js';
import { MS_DOMAIN, quantizeLstm } from './lstm.js';
import { quantizeGemm, quantizeMatMul } from './matmul.js';
import { type DynamicOptions, resolveDynamicOptions } from './options.js';
import { WeightStore } from './weight-store.js';

export interface DynamicReport {
  /** Every node the pass considered, in graph order, with what was done or why not. */
  nodes: NodeOutcome[];
}

type Rewriter = (node: Node, graph: Graph, ctx: DynamicContext) => Rewrite;

const REWRITERS: Record<string, Rewriter> = {
  MatMul: quantizeMatMul,
  Gemm: quantizeGemm,
  Conv: quantizeConv,
  LSTM: quantizeLstm,
};

/** Weight-bearing ops without a dynamically quantized kernel in ONNX Runtime. */
const FLOAT_ONLY = new Set(['GRU', 'RNN', 'ConvTranspose']);

/** DynamicQuantizeLinear, the run-time quantizer of activations, appeared in opset 11. */
const MIN_OPSET = 11;

export function quantizeDynamic(model: Model, options: DynamicOptions = {}): DynamicReport {
  const opset = model.opset('') ?? 0;
  if (opset < MIN_OPSET) {
    throw new QuantkitError(
      `dynamic quantization needs ONNX opset ${MIN_OPSET} or newer (DynamicQuantizeLinear); the model ` +
        `imports opset ${opset}: convert it to a newer opset first`,
    );
  }
  const ctx: DynamicContext = {
    options: resolveDynamicOptions(options),
    activations: new ActivationQuantizer(),
    weights: new WeightStore(),
  };
  const { filter } = ctx.options;
  const nodes: NodeOutcome[] = [];
  for (const { node, graph } of [...model.graph.walk()]) {
    if (!node.isStandard) continue;
    const rewrite = REWRITERS[node.opType];
    const requested = filter.opTypes?.includes(node.opType) ?? false;
    if (!rewrite && !FLOAT_ONLY.has(node.opType) && !requested) continue;
    if (!nodeSelected(node, filter)) {
      nodes.push(nodeOutcome(node, graph, false, filterReason(node, filter)));
    } else if (!rewrite) {
      const note = FLOAT_ONLY.has(node.opType)
        ? `ONNX Runtime has no dynamically quantized ${node.opType} kernel`
        : `dynamic quantization covers ${Object.keys(REWRITERS).join(', ')} only`;
      nodes.push(nodeOutcome(node, graph, false, note));
    } else {
      const r = rewrite(node, graph, ctx);
      nodes.push(nodeOutcome(node, graph, r.done, r.note));
    }
  }
  ctx.weights.dropUnused();
  if (nodes.some((n) => n.done && n.opType === 'LSTM') && model.opset(MS_DOMAIN) === undefined) {
    model.setOpset(MS_DOMAIN, 1);
  }
  for (const g of [...model.graph.graphs()]) g.sortTopologically();
  return { nodes };
}
