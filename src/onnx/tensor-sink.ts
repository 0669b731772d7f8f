/**
 * Where a pass puts the tensors it makes when the model is too large for them all to stay in memory.
 * A sink takes a tensor's bytes and hands back the same tensor reading them from wherever it put them,
 * so the caller can drop its own copy at once. The core sees only this interface; the Node sink, a
 * scratch file beside the output, lives in src/io/spill-file.ts.
 */
import type { Tensor } from './tensor.js';

export interface TensorSink {
  /** `tensor` with its payload moved into the sink. */
  store(tensor: Tensor): Tensor;
}
