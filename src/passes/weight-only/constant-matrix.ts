/** Finding the constant float32 tensors a MatMul or Gemm reads: initializers, possibly outer-scope. */
import type { Graph } from '../../onnx/graph.js';
import type { Tensor } from '../../onnx/tensor.js';

export interface ConstantTensor {
  tensor: Tensor;
  /** The graph holding the initializer: the node's own, or an enclosing one for outer-scope weights. */
  owner: Graph;
}

/**
 * The float32 initializer `name` as read from `graph`, or why it is not one (a phrase following the
 * value's name in a report line).
 */
export function constantFloat(graph: Graph, name: string): ConstantTensor | string {
  for (let g: Graph | undefined = graph; g; g = g.parent) {
    const tensor = g.initializers.get(name);
    if (tensor) {
      // An initializer listed as a graph input is only a default: callers may feed another value.
      if (g.isGraphInput(name)) return 'is a graph input that callers can override';
      if (tensor.dtype !== 'float32')
        return `is ${tensor.dtype}; weight-only quantization reads float32 weights`;
      return { tensor, owner: g };
    }
    if (g.producer(name) || g.isGraphInput(name)) return 'is computed at run time, not a constant';
  }
  return 'is not defined in the graph';
}

/** As `constantFloat`, for a non-empty 2-D weight. */
export function constantMatrix(graph: Graph, name: string): ConstantTensor | string {
  const found = constantFloat(graph, name);
  if (typeof found === 'string') return found;
  const { dims } = found.tensor;
  if (dims.length !== 2) return `has rank ${dims.length}; MatMulNBits takes a 2-D weight`;
  if (found.tensor.size === 0) return 'is empty';
  return found;
}
