/**
 * Parameters become graph inputs of the gradient model, so a trainer feeds their current values at
 * every step instead of rebuilding the model; they keep their element type and shape.
 */
import type { Graph } from '../onnx/graph.js';
import { makeValueInfo } from '../onnx/value-info.js';

export function parametersToInputs(g: Graph, parameters: readonly string[]): void {
  for (const p of parameters) {
    const t = g.initializers.get(p);
    if (!t) continue;
    g.removeInitializer(p);
    if (!g.isGraphInput(p)) g.inputs.push(makeValueInfo(p, t.dtype, t.dims));
  }
}
