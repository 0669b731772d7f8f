/**
 * What ONNX Runtime actually runs: the op types of the graph after its optimizer (fusions included),
 * read back from the file it writes with `optimizedModelFilePath`. This is how tests check which
 * patterns ONNX Runtime fused, e.g. MatMulInteger chains into MatMulIntegerToFloat.
 */
import { join } from 'node:path';
import { loadModel } from '../../src/io/model-file.js';
import type { Model } from '../../src/onnx/model.js';
import { type RuntimeOptions, Runner } from '../../src/runtime/session.js';
import { withTempDir } from './fixtures.js';

/** Op type → how many nodes of it the optimized model has, subgraphs included. */
export type OpCounts = Record<string, number>;

export async function optimizedOpCounts(
  model: Model,
  optimization: RuntimeOptions['optimization'] = 'all',
): Promise<OpCounts> {
  return withTempDir(async (dir) => {
    const path = join(dir, 'optimized.onnx');
    const runner = await Runner.create(model, { optimization, optimizedModelPath: path });
    await runner.release();
    const optimized = loadModel(path);
    try {
      return opCounts(optimized);
    } finally {
      optimized.dispose();
    }
  });
}

/** Op type → node count of a model, subgraphs included. */
export function opCounts(model: Model): OpCounts {
  const counts: OpCounts = {};
  for (const { node } of model.graph.walk()) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}
