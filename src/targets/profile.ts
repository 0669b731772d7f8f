/**
 * A target profile: how to quantize for one runtime on one kind of hardware, as data. ONNX Runtime's
 * x86 kernels with and without VNNI, its WebAssembly build and TensorRT each fuse, saturate and run
 * different things fast (../shared/reference/measured-here.md), so the same flags mean different
 * models; a profile states the right defaults and what is known to go wrong there.
 */
import type { QuantType } from '../quant/types.js';

/** Where a model will run; decides how verification runs it. */
export type RuntimeKind = 'ort-node' | 'ort-wasm' | 'tensorrt';

export interface TargetProfile {
  name: string;
  description: string;
  runtime: RuntimeKind;
  activationType: QuantType;
  weightType: QuantType;
  symmetricActivations: boolean;
  symmetricWeights: boolean;
  reduceRange: boolean;
  perChannel: boolean;
  /** Static quantization: int32 biases behind DequantizeLinear (TensorRT wants float biases). */
  quantizeBias: boolean;
  /** One Q/DQ pair per consumer instead of one shared pair (TensorRT cannot share them). */
  dedicatedPairs: boolean;
  /** Quantize only MatMuls with a constant weight, not activation × activation ones (attention). */
  weightedMatMulOnly: boolean;
  allowDynamic: boolean;
  allowQOperator: boolean;
  /** Measure each quantized layer against float in the target runtime and keep the slower ones float. */
  speedAware: boolean;
  /** Overrides that run but are known to be slow or to lose accuracy here: option → why. */
  cautions: readonly Caution[];
}

export interface Caution {
  /** Does this choice of options trigger the caution? */
  applies(o: {
    activationType: QuantType;
    weightType: QuantType;
    reduceRange: boolean;
    symmetricActivations: boolean;
  }): boolean;
  message: string;
}
