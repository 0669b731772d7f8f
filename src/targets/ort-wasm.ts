/**
 * onnxruntime-web's WebAssembly backend (also what transformers.js runs on by default). It runs the CPU
 * provider's kernels compiled to wasm: uint8×int8 QLinearConv is fused, but its integer kernels favour
 * different layers than native x86 — a plain CNN got 2.4× faster in INT8 while a depthwise/pointwise
 * MobileNet-style net got slower (0.63×) — so layers are kept in float where INT8 measures slower.
 * wasm has no VNNI-style saturation issue to avoid; measured-here.md ran it with full-range weights.
 */
import type { TargetProfile } from './profile.js';

export const ORT_WASM: TargetProfile = {
  name: 'ort-wasm',
  description: 'onnxruntime-web, WebAssembly backend (browsers, transformers.js default)',
  runtime: 'ort-wasm',
  activationType: 'uint8',
  weightType: 'int8',
  symmetricActivations: false,
  symmetricWeights: true,
  reduceRange: false,
  perChannel: true,
  quantizeBias: true,
  dedicatedPairs: false,
  weightedMatMulOnly: false,
  allowDynamic: true,
  allowQOperator: true,
  speedAware: true,
  cautions: [
    {
      applies: (o) => o.activationType === 'int8',
      message:
        'int8 activations: slower than uint8 in onnxruntime-web (measured 1.5× vs 2.4× faster than FP32)',
    },
  ],
};
