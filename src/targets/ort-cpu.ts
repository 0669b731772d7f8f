/**
 * ONNX Runtime's CPU execution provider. Its x86 kernels fuse uint8 activations × int8 weights into
 * QLinearConv/QLinearMatMul/QGemm; int8 activations are not fused into QLinearConv (those Convs run in
 * float on dequantized weights, slower than FP32). Without VNNI the u8×s8 dot product sums pairs in
 * 16 bits, so full-range int8 weights saturate: 7-bit weights (reduce-range) avoid it. arm64 kernels
 * accumulate in 32 bits. Figures: measured-here.md.
 */
import type { Caution, TargetProfile } from './profile.js';

const INT8_ACTIVATIONS: Caution = {
  applies: (o) => o.activationType === 'int8',
  message:
    'int8 activations: ONNX Runtime on x86 does not fuse them into QLinearConv, so those Convs run in float ' +
    '(measured 0.28–0.8× the FP32 speed); uint8 activations are the x86 choice',
};

const FULL_RANGE_NO_VNNI: Caution = {
  applies: (o) => o.weightType === 'int8' && !o.reduceRange,
  message:
    'full-range int8 weights on a CPU without VNNI: the 16-bit sums of its u8×s8 kernels saturate ' +
    '(measured −1 point on a CNN whose simulation is exact); keep --reduce-range',
};

const base = {
  runtime: 'ort-node',
  activationType: 'uint8',
  weightType: 'int8',
  symmetricActivations: false,
  symmetricWeights: true,
  perChannel: true,
  quantizeBias: true,
  dedicatedPairs: false,
  weightedMatMulOnly: false,
  allowDynamic: true,
  allowQOperator: true,
  speedAware: false,
} as const;

export const ORT_CPU_VNNI: TargetProfile = {
  ...base,
  name: 'ort-cpu:vnni',
  description: 'ONNX Runtime CPU on x86 with AVX-512 VNNI / AVX-VNNI (32-bit int8 dot products)',
  reduceRange: false,
  cautions: [INT8_ACTIVATIONS],
};

export const ORT_CPU_AVX2: TargetProfile = {
  ...base,
  name: 'ort-cpu:avx2',
  description: 'ONNX Runtime CPU on x86 without VNNI (AVX2): 7-bit weights against 16-bit saturation',
  reduceRange: true,
  cautions: [INT8_ACTIVATIONS, FULL_RANGE_NO_VNNI],
};

export const ORT_CPU_ARM64: TargetProfile = {
  ...base,
  name: 'ort-cpu:arm64',
  description: 'ONNX Runtime CPU on arm64 (int8 dot products accumulate in 32 bits)',
  reduceRange: false,
  cautions: [],
};
