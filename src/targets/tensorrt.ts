/**
 * TensorRT (directly, or through ONNX Runtime's TensorRT execution provider) reads explicit Q/DQ:
 * symmetric int8 activations and weights, one Q/DQ pair per consumer, biases in float (it rejects an
 * int32 bias behind DequantizeLinear and quantizes biases itself), and no DynamicQuantizeLinear,
 * QLinear* or *Integer operators.
 */
import type { TargetProfile } from './profile.js';

export const TENSORRT: TargetProfile = {
  name: 'tensorrt',
  description:
    'TensorRT explicit quantization (Q/DQ): symmetric int8, float biases, one Q/DQ pair per consumer',
  runtime: 'tensorrt',
  activationType: 'int8',
  weightType: 'int8',
  symmetricActivations: true,
  symmetricWeights: true,
  reduceRange: false,
  perChannel: true,
  quantizeBias: false,
  dedicatedPairs: true,
  weightedMatMulOnly: true,
  allowDynamic: false,
  allowQOperator: false,
  speedAware: false,
  cautions: [],
};
