/** Finding the float weight a node reads: an initializer in its graph or an enclosing one. */
import type { Graph } from '../../onnx/graph.js';
import type { Tensor } from '../../onnx/tensor.js';

export interface ConstantWeight {
  tensor: Tensor;
  /** The graph holding the initializer (an enclosing graph for outer-scope weights). */
  owner: Graph;
}

/**
 * The float32 initializer `name` as read from `graph`, or why the value is not one (a phrase that
 * follows the value's name in a report line).
 */
export function floatWeight(graph: Graph, name: string): ConstantWeight | string {
  for (let g: Graph | undefined = graph; g; g = g.parent) {
    const tensor = g.initializers.get(name);
    if (tensor) {
      // An initializer listed as a graph input is only a default: callers may feed another value.
      if (g.isGraphInput(name)) return 'is a graph input that callers can override';
      if (tensor.dtype !== 'float32') return `is ${tensor.dtype}; dynamic quantization reads float32 weights`;
      return { tensor, owner: g };
    }
    if (g.producer(name) || g.isGraphInput(name)) return 'is computed at run time, not a constant';
  }
  return 'is not defined in the graph';
}
