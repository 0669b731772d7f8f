/**
 * The model inputs a data set must provide: the graph's inputs minus those backed by an initializer
 * (ONNX lets callers override those, but they have a default and are never required).
 */
import type { Graph } from '../onnx/graph.js';
import { type Dim, tensorTypeOf } from '../onnx/value-info.js';
import type { DType } from '../tensor/dtype.js';

export interface ModelInput {
  name: string;
  /** undefined when the model does not declare it; the data's own type is then taken. */
  dtype: DType | undefined;
  /** undefined when the model does not declare its rank. */
  shape: Dim[] | undefined;
}

export function requiredInputs(graph: Graph): ModelInput[] {
  return graph.inputs
    .filter((vi) => !graph.initializers.has(vi.name))
    .map((vi) => ({ name: vi.name, ...tensorTypeOf(vi.type) }));
}

/** `[?, 1, 28, 28]`: symbolic and unknown dimensions both print as `?`, they accept any size. */
export function formatDims(shape: readonly Dim[] | undefined): string {
  if (!shape) return '[...]';
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : '?')).join(', ')}]`;
}

export function inputNames(inputs: readonly ModelInput[]): string {
  return inputs.map((i) => `'${i.name}'`).join(', ');
}
