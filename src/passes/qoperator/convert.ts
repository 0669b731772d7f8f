/**
 * QDQ → operator format: every DequantizeLinear → op → QuantizeLinear group becomes one integer
 * operator (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...), and data-movement ops run directly on
 * the quantized tensors. The same plan and scales serve both formats: this pass only rewrites what
 * emitQdq wrote, the way ONNX Runtime's own graph optimizer fuses QDQ groups.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import { Node } from '../../onnx/node.js';

export interface QOperatorReport {
  /** Integer operators created, by op type. */
  converted: Record<string, number>;
  /** Quantized nodes left in QDQ form, and why. */
  kept: { node: string; reason: string }[];
}

const MS = 'com.microsoft';

interface Dq {
  node: Node;
  /** [quantized value, scale, zero point] (the zero point may be '') */
  q: string;
  scale: string;
  zeroPoint: string;
}

export function qdqToQOperator(model: Model): QOperatorReport {
  const report: QOperatorReport = { converted: {}, kept: [] };
  let usesContrib = false;
  for (const g of [...model.graph.graphs()]) {
    for (const node of g.topologicalOrder()) {
      const made = convertNode(g, node);
      if (!made) continue;
      report.converted[made.opType] = (report.converted[made.opType] ?? 0) + 1;
      if (made.domain === MS) usesContrib = true;
    }
    g.removeDeadNodes();
    g.removeUnusedInitializers();
  }
  for (const { node, graph } of model.graph.walk()) {
    if (!node.isStandard || !INTEGER_FORMS.has(node.opType)) continue;
    const quantizedOut = graph.consumers(node.outputs[0]).some((c) => c.opType === 'QuantizeLinear');
    if (quantizedOut && node.inputs.some((i) => i && graph.producer(i)?.opType === 'DequantizeLinear')) {
      report.kept.push({
        node: node.name || node.opType,
        reason: 'no integer operator matches its inputs and output',
      });
    }
  }
  if (usesContrib) model.setOpset(MS, Math.max(model.opset(MS) ?? 1, 1));
  return report;
}

/** The DequantizeLinear producing `value` (per tensor, or per axis for weights and biases). */
function dqOf(g: Graph, value: string): Dq | undefined {
  const p = g.producer(value);
  if (!p || p.opType !== 'DequantizeLinear' || p.hasAttribute('block_size')) return undefined;
  return { node: p, q: p.inputs[0], scale: p.inputs[1], zeroPoint: p.inputs[2] ?? '' };
}

/** The QuantizeLinear that alone consumes `value` (through an absorbed Relu/Clip), if any. */
function qAfter(g: Graph, value: string): { q: Node; via?: Node } | undefined {
  const consumers = g.consumers(value);
  if (consumers.length !== 1 || g.isGraphOutput(value)) return undefined;
  const c = consumers[0];
  if (c.opType === 'QuantizeLinear' && !c.hasAttribute('axis')) return { q: c };
  if ((c.opType === 'Relu' || c.opType === 'Clip') && c.inputs[0] === value) {
    const after = g.consumers(c.outputs[0]);
    if (after.length === 1 && after[0].opType === 'QuantizeLinear' && !g.isGraphOutput(c.outputs[0])) {
      return { q: after[0], via: c };
    }
  }
  return undefined;
}

/** Relu vanishes exactly when the output's zero point is the lowest code; Clip when the range fits in it. */
function absorbs(g: Graph, via: Node | undefined, q: Node): boolean {
  if (!via) return true;
  const scale = g.findInitializer(q.inputs[1])?.toFloat32()[0];
  const zpTensor = q.inputs[2] ? g.findInitializer(q.inputs[2]) : undefined;
  if (scale === undefined || !zpTensor) return false;
  const zp = Number(zpTensor.data()[0]);
  const [qmin, qmax] =
    zpTensor.dtype === 'int8' ? [-128, 127] : zpTensor.dtype === 'uint8' ? [0, 255] : [NaN, NaN];
  if (Number.isNaN(qmin)) return false;
  const lo = scale * (qmin - zp);
  const hi = scale * (qmax - zp);
  if (via.opType === 'Relu') return zp === qmin;
  const clipMin = via.inputs[1]
    ? g.findInitializer(via.inputs[1])?.toFloat32()[0]
    : via.getFloat('min', -Infinity);
  const clipMax = via.inputs[2]
    ? g.findInitializer(via.inputs[2])?.toFloat32()[0]
    : via.getFloat('max', Infinity);
  return clipMin !== undefined && clipMax !== undefined && lo >= clipMin && hi <= clipMax;
}

const INTEGER_FORMS = new Set([
  'Conv',
  'MatMul',
  'Gemm',
  'Add',
  'Mul',
  'Concat',
  'AveragePool',
  'GlobalAveragePool',
]);

/** Data movement that runs on the integers directly (no operator of its own in QOperator form). */
export const PASS_THROUGH = new Set([
  'MaxPool',
  'GlobalMaxPool',
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Gather',
  'Resize',
  'DepthToSpace',
  'SpaceToDepth',
]);

/** Replaces one QDQ group with its integer operator; returns the new node, or undefined. */
function convertNode(g: Graph, node: Node): Node | undefined {
  if (!node.isStandard) return undefined;
  if (PASS_THROUGH.has(node.opType)) return passThrough(g, node);
  switch (node.opType) {
    case 'Conv':
      return withOutput(g, node, (y) => {
        const [x, w] = [dqOf(g, node.inputs[0]), dqOf(g, node.inputs[1])];
        const b = node.inputs[2] ? dqOf(g, node.inputs[2]) : undefined;
        if (!x || !w || (node.inputs[2] && !b) || !y) return undefined;
        const inputs = [x.q, x.scale, x.zeroPoint, w.q, w.scale, w.zeroPoint, y.scale, y.zeroPoint];
        if (b) inputs.push(b.q);
        return ['QLinearConv', '', inputs];
      });
    case 'MatMul':
      return withOutput(
        g,
        node,
        (y) => {
          const [a, b] = [dqOf(g, node.inputs[0]), dqOf(g, node.inputs[1])];
          if (!a || !b) return undefined;
          if (y)
            return [
              'QLinearMatMul',
              '',
              [a.q, a.scale, a.zeroPoint, b.q, b.scale, b.zeroPoint, y.scale, y.zeroPoint],
            ];
          return ['MatMulIntegerToFloat', MS, [a.q, b.q, a.scale, b.scale, a.zeroPoint, b.zeroPoint]];
        },
        true,
      );
    case 'Gemm':
      return withOutput(
        g,
        node,
        (y) => {
          const [a, b] = [dqOf(g, node.inputs[0]), dqOf(g, node.inputs[1])];
          const c = node.inputs[2] ? dqOf(g, node.inputs[2]) : undefined;
          if (!a || !b || (node.inputs[2] && !c) || node.getInt('transA', 0) !== 0) return undefined;
          const inputs = [a.q, a.scale, a.zeroPoint, b.q, b.scale, b.zeroPoint, c?.q ?? ''];
          if (y) inputs.push(y.scale, y.zeroPoint);
          return ['QGemm', MS, inputs];
        },
        true,
      );
    case 'Add':
    case 'Mul':
      return withOutput(g, node, (y) => {
        const [a, b] = [dqOf(g, node.inputs[0]), dqOf(g, node.inputs[1])];
        if (!a || !b || !y) return undefined;
        return [
          `QLinear${node.opType}`,
          MS,
          [a.q, a.scale, a.zeroPoint, b.q, b.scale, b.zeroPoint, y.scale, y.zeroPoint],
        ];
      });
    case 'Concat':
      return withOutput(g, node, (y) => {
        const xs = node.inputs.map((i) => dqOf(g, i));
        if (!y || xs.some((x) => !x)) return undefined;
        return [
          'QLinearConcat',
          MS,
          [y.scale, y.zeroPoint, ...xs.flatMap((x) => [x!.q, x!.scale, x!.zeroPoint])],
        ];
      });
    case 'AveragePool':
    case 'GlobalAveragePool':
    case 'Sigmoid':
    case 'LeakyRelu':
      return withOutput(g, node, (y) => {
        const x = dqOf(g, node.inputs[0]);
        if (!x || !y) return undefined;
        return [`QLinear${node.opType}`, MS, [x.q, x.scale, x.zeroPoint, y.scale, y.zeroPoint]];
      });
    default:
      return undefined;
  }
}

type Build = (y: { scale: string; zeroPoint: string } | undefined) => [string, string, string[]] | undefined;

/**
 * Finds the node's output quantizer, builds the integer op, and splices it in: it reads the
 * quantized inputs and writes the quantizer's output (or the node's float output when `floatOutput`
 * kernels exist and no quantizer follows).
 */
function withOutput(g: Graph, node: Node, build: Build, floatOutput = false): Node | undefined {
  const after = qAfter(g, node.outputs[0]);
  const usable = after && absorbs(g, after.via, after.q) ? after : undefined;
  if (!usable && !floatOutput) return undefined;
  const y = usable ? { scale: usable.q.inputs[1], zeroPoint: usable.q.inputs[2] ?? '' } : undefined;
  const spec = build(y);
  if (!spec) return undefined;
  const [opType, domain, inputs] = spec;
  const out = usable ? usable.q.outputs[0] : node.outputs[0];
  const made = new Node(opType, inputs, [out], {
    name: node.name,
    domain,
    attributes: attributesFor(opType, node),
  });
  g.addNode(made, { before: node });
  g.removeNode(node);
  if (usable) {
    g.removeNode(usable.q);
    if (usable.via) g.removeNode(usable.via);
  }
  return made;
}

function attributesFor(opType: string, node: Node): Attribute[] {
  const keep = (names: string[]) => node.attributes().filter((a) => names.includes(a.name));
  switch (opType) {
    case 'QLinearConv':
      return keep(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
    case 'QGemm':
      return keep(['alpha', 'transA', 'transB']);
    case 'QLinearConcat':
      return keep(['axis']);
    case 'QLinearAveragePool':
      return keep(['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides']);
    case 'QLinearGlobalAveragePool':
      return [Attribute.int('channels_last', 0)];
    case 'QLinearLeakyRelu':
      return keep(['alpha']);
    default:
      return [];
  }
}

/**
 * DequantizeLinear → data movement → QuantizeLinear with the same scale and zero point is the data
 * movement on the integers.
 */
function passThrough(g: Graph, node: Node): Node | undefined {
  const x = dqOf(g, node.inputs[0]);
  const after = qAfter(g, node.outputs[0]);
  if (!x || !after || after.via) return undefined;
  if (after.q.inputs[1] !== x.scale || (after.q.inputs[2] ?? '') !== x.zeroPoint) return undefined;
  if (node.outputs.length > 1 && node.opType !== 'MaxPool') return undefined;
  if (node.opType === 'MaxPool' && node.outputs.length > 1 && node.outputs[1]) return undefined;
  node.setInput(0, x.q);
  node.setOutputs([after.q.outputs[0]]);
  g.removeNode(after.q);
  return node;
}
