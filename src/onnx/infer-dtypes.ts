/**
 * Element types of every value in a model — what quantization needs to know ("is this activation a
 * float?"), without full shape inference. Declared types (inputs, outputs, value_info, initializers)
 * win; other values follow per-op rules, and subgraph outputs flow out through If/Loop/Scan. A value
 * whose type cannot be known (an unfamiliar op in a custom domain) is left out, so it is never quantized.
 */
import { type DType, dtypeFromOnnx } from '../tensor/dtype.js';
import type { Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import { tensorTypeOf } from './value-info.js';

export type DtypeMap = Map<string, DType>;

export function inferDtypes(model: Model): DtypeMap {
  const types: DtypeMap = new Map();
  inferGraph(model.graph, types);
  return types;
}

function declare(g: Graph, types: DtypeMap): void {
  for (const t of g.initializers.values()) types.set(t.name, t.dtype);
  for (const vi of [...g.inputs, ...g.valueInfo.values()]) {
    const { dtype } = tensorTypeOf(vi.type);
    if (dtype) types.set(vi.name, dtype);
  }
}

function inferGraph(g: Graph, types: DtypeMap): void {
  declare(g, types);
  for (const node of g.topologicalOrder()) {
    for (const sub of node.subgraphs()) inferGraph(sub, types);
    const outs = outputTypes(node, types);
    node.outputs.forEach((name, i) => {
      if (name === '' || g.valueInfo.has(name)) return;
      const t = outs[i];
      if (t) types.set(name, t);
    });
  }
  for (const vi of g.outputs) {
    const { dtype } = tensorTypeOf(vi.type);
    if (dtype) types.set(vi.name, dtype);
  }
}

/** Ops whose outputs are int64 / bool whatever their inputs. */
export const INT64_OUT: ReadonlySet<string> = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
export const BOOL_OUT: ReadonlySet<string> = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
]);
/** Ops whose every output has the type of their first input (shape/data movement and float math). */
const CONTRIB_SAME_AS_INPUT = new Set([
  'Gelu',
  'FastGelu',
  'BiasGelu',
  'SkipLayerNormalization',
  'LayerNormalization',
  'SimplifiedLayerNormalization',
  'FusedConv',
  'FusedGemm',
  'FusedMatMul',
  'Attention',
  'MultiHeadAttention',
  'QuickGelu',
  'BiasAdd',
]);

function outputTypes(node: Node, types: DtypeMap): (DType | undefined)[] {
  const input = (i: number) => (node.inputs[i] ? types.get(node.inputs[i]) : undefined);
  const all = (t: DType | undefined) => node.outputs.map(() => t);
  const attrType = (name: string, fallback: DType | undefined) =>
    node.hasAttribute(name) ? dtypeFromOnnx(node.getInt(name)) : fallback;
  if (!node.isStandard) {
    if (node.domain !== 'com.microsoft') return all(undefined);
    switch (node.opType) {
      case 'QLinearAdd':
      case 'QLinearMul':
      case 'QLinearSigmoid':
      case 'QLinearLeakyRelu':
      case 'QLinearAveragePool':
      case 'QLinearGlobalAveragePool':
        return all(input(0));
      case 'QGemm':
        return all(node.inputs[7] ? input(7) : 'float32');
      case 'QLinearConcat':
        return all(input(2));
      case 'DynamicQuantizeMatMul':
      case 'MatMulIntegerToFloat':
      case 'MatMulNBits':
        return all(input(0) === 'float16' ? 'float16' : 'float32');
      case 'DynamicQuantizeLSTM':
        return all(input(0));
      default:
        return all(CONTRIB_SAME_AS_INPUT.has(node.opType) ? input(0) : undefined);
    }
  }
  if (INT64_OUT.has(node.opType)) return all('int64');
  if (BOOL_OUT.has(node.opType)) return all('bool');
  switch (node.opType) {
    case 'Cast':
      return all(attrType('to', undefined));
    case 'CastLike':
      return all(input(1));
    case 'Constant': {
      const t = node.getTensor('value');
      if (t) return all(t.dtype);
      if (node.hasAttribute('value_float') || node.hasAttribute('value_floats')) return all('float32');
      if (node.hasAttribute('value_int') || node.hasAttribute('value_ints')) return all('int64');
      return all(
        node.hasAttribute('value_string') || node.hasAttribute('value_strings') ? 'string' : undefined,
      );
    }
    case 'ConstantOfShape':
      return all(node.getTensor('value')?.dtype ?? 'float32');
    case 'QuantizeLinear':
      return all(attrType('output_dtype', undefined) ?? (node.inputs[2] ? input(2) : 'uint8'));
    case 'DequantizeLinear':
      return all(input(1));
    case 'DynamicQuantizeLinear':
      return ['uint8', 'float32', 'uint8'];
    case 'MatMulInteger':
    case 'ConvInteger':
      return all('int32');
    case 'QLinearConv':
      return all(input(7));
    case 'QLinearMatMul':
      return all(input(7));
    case 'TopK':
    case 'MaxPool':
      return [input(0), 'int64'];
    case 'Dropout':
      return [input(0), 'bool'];
    case 'Unique':
      return [input(0), 'int64', 'int64', 'int64'];
    case 'Where':
      return all(input(1));
    case 'OneHot':
      return all(input(2));
    case 'EyeLike':
    case 'RandomNormalLike':
    case 'RandomUniformLike':
    case 'Bernoulli':
      return all(attrType('dtype', input(0)));
    case 'RandomNormal':
    case 'RandomUniform':
      return all(attrType('dtype', 'float32'));
    case 'Multinomial':
      return all(attrType('dtype', 'int32'));
    case 'If': {
      const then = node.subgraphs()[0];
      return node.outputs.map((_, i) => (then?.outputs[i] ? types.get(then.outputs[i].name) : undefined));
    }
    case 'Loop': {
      // Outputs: final loop-carried values (body outputs 1..N), then scan outputs (body outputs N+1..).
      const body = node.subgraphs()[0];
      return node.outputs.map((_, i) =>
        body?.outputs[i + 1] ? types.get(body.outputs[i + 1].name) : undefined,
      );
    }
    case 'Scan': {
      const body = node.subgraphs()[0];
      return node.outputs.map((_, i) => (body?.outputs[i] ? types.get(body.outputs[i].name) : undefined));
    }
    default:
      return all(input(0));
  }
}
