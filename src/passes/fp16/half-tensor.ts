/**
 * float32 tensors → float16. Finite values beyond ±65504 (float16's largest) would become ±Inf and
 * clamp to ±65504 instead; ±Inf and NaN stay what they are. Non-zero values smaller in magnitude than
 * 2^-24, float16's smallest subnormal, would become 0 and are raised to ±2^-24 instead, as ONNX
 * Runtime's float16.py does: an epsilon such as 1e-12 added before a division must not vanish.
 */
import { Tensor } from '../../onnx/tensor.js';
import { float32ArrayToFloat16 } from '../../tensor/float16.js';

export const FLOAT16_MAX = 65504;
export const FLOAT16_MIN_SUBNORMAL = 2 ** -24;

export interface HalfTensor {
  tensor: Tensor;
  /** Finite values clamped to ±65504. */
  clamped: number;
  /** Tiny non-zero values raised to ±2^-24. */
  raised: number;
}

export function toFloat16(tensor: Tensor, name = tensor.name): HalfTensor {
  const values = tensor.toFloat32().slice();
  let clamped = 0;
  let raised = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const a = Math.abs(v);
    if (a > FLOAT16_MAX && a !== Infinity) {
      values[i] = v > 0 ? FLOAT16_MAX : -FLOAT16_MAX;
      clamped++;
    } else if (a < FLOAT16_MIN_SUBNORMAL && a !== 0) {
      values[i] = v > 0 ? FLOAT16_MIN_SUBNORMAL : -FLOAT16_MIN_SUBNORMAL;
      raised++;
    }
  }
  return {
    tensor: Tensor.fromArray(name, 'float16', tensor.dims, float32ArrayToFloat16(values)),
    clamped,
    raised,
  };
}
