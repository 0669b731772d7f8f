/**
 * Checks model inputs before ONNX Runtime sees them, so a mismatch is reported with the input's name
 * and both shapes instead of a runtime error from deep inside a kernel.
 */
import { QuantkitError } from '../errors.js';
import type { Graph } from '../onnx/graph.js';
import { formatShape, tensorTypeOf } from '../onnx/value-info.js';
import type { RuntimeArray } from './ort-tensor.js';

export function checkFeeds(graph: Graph, feeds: Record<string, RuntimeArray>): void {
  const initializers = graph.initializers;
  for (const input of graph.inputs) {
    if (initializers.has(input.name)) continue; // an overridable initializer; feeding it is optional
    const arr = feeds[input.name];
    const { dtype, shape } = tensorTypeOf(input.type);
    if (!arr) {
      throw new QuantkitError(
        `the model needs input '${input.name}' (${dtype ?? '?'} ${formatShape(shape)}), which the data does not provide` +
          ` (it provides: ${Object.keys(feeds).join(', ') || 'nothing'})`,
      );
    }
    const mismatch = (why: string) =>
      new QuantkitError(
        `input '${input.name}': the model expects ${dtype ?? '?'} ${formatShape(shape)}, ` +
          `the data is ${arr.dtype} ${formatShape(arr.shape)} (${why})`,
      );
    if (dtype && arr.dtype !== dtype) throw mismatch('element types differ');
    if (!shape) continue;
    if (shape.length !== arr.shape.length) throw mismatch('ranks differ');
    shape.forEach((d, i) => {
      if (typeof d === 'number' && d !== arr.shape[i]) throw mismatch(`dimension ${i} differs`);
    });
  }
  for (const name of Object.keys(feeds)) {
    if (!graph.isGraphInput(name)) {
      throw new QuantkitError(
        `the data has an array '${name}', but the model has no input of that name (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`,
      );
    }
  }
}
