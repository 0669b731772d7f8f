/**
 * What TensorRT's explicit-quantization importer accepts, checked on a finished model: Q/DQ in the
 * default domain with int8 zero points of 0 (symmetric), one DequantizeLinear per QuantizeLinear and
 * one reader per DequantizeLinear (no shared pairs), no int32 bias behind a DequantizeLinear, and none
 * of the operators it has no importer for.
 */
import type { Model } from '../onnx/model.js';

const UNSUPPORTED = new Set([
  'DynamicQuantizeLinear',
  'MatMulInteger',
  'ConvInteger',
  'QLinearConv',
  'QLinearMatMul',
  'QLinearAdd',
  'QLinearMul',
  'QGemm',
  'MatMulNBits',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
]);

/** One line per violation; empty when the model follows the rules. */
export function tensorRtViolations(model: Model): string[] {
  const out: string[] = [];
  for (const { node, graph } of model.graph.walk()) {
    const where = node.name || `${node.opType} → ${node.outputs[0]}`;
    if (UNSUPPORTED.has(node.opType) || node.opType.startsWith('QLinear')) {
      out.push(`${where}: ${node.opType} has no TensorRT importer`);
      continue;
    }
    if (node.opType !== 'QuantizeLinear' && node.opType !== 'DequantizeLinear') continue;
    if (!node.isStandard) out.push(`${where}: ${node.opType} in domain '${node.domain}'`);
    const zp = node.inputs[2] ? graph.findInitializer(node.inputs[2]) : undefined;
    if (zp && (zp.dtype !== 'int8' || [...(zp.data() as Int8Array)].some((z) => z !== 0))) {
      out.push(`${where}: zero point must be int8 0 (symmetric), is ${zp.dtype}`);
    }
    const readers = graph.consumers(node.outputs[0]).length + (graph.isGraphOutput(node.outputs[0]) ? 1 : 0);
    if (node.opType === 'DequantizeLinear') {
      const values = graph.findInitializer(node.inputs[0]);
      if (values?.dtype === 'int32') out.push(`${where}: int32 bias behind a DequantizeLinear`);
      if (!values && readers > 1) out.push(`${where}: one DequantizeLinear shared by ${readers} readers`);
    } else if (readers > 1) {
      out.push(`${where}: one QuantizeLinear shared by ${readers} readers`);
    }
  }
  return out;
}
