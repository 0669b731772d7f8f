/**
 * Mixed precision as a step of `quantize()`: runs the search (mixed-precision.ts), records its plan in
 * the QuantizeReport — layers kept float are no longer counted as quantized — and, after the QDQ is
 * written, turns the layers kept float into float16 when asked.
 */
import type { SampleSource } from '../data/sample-source.js';
import type { Node } from '../onnx/node.js';
import type { Model } from '../onnx/model.js';
import { convertToFloat16 } from '../passes/fp16/convert.js';
import { layerName } from '../analysis/layers.js';
import type { EmitOptions } from '../passes/qdq/emit.js';
import type { QuantPlan } from '../passes/qdq/plan.js';
import type { ScaleZeroPoint } from '../quant/qparams.js';
import type { StaticSetup } from './candidate-builder.js';
import { mixedPrecision } from './mixed-precision.js';
import type { QuantizeReport, QuantizeRequest } from './quantize.js';
import type { ResolvedOptions } from './resolve.js';

export async function applyMixedPrecision(
  setup: StaticSetup,
  calibration: SampleSource,
  req: QuantizeRequest,
  options: ResolvedOptions,
  report: QuantizeReport,
): Promise<{
  plan: QuantPlan;
  params: Map<string, ScaleZeroPoint>;
  weightParams: EmitOptions['weightParams'];
}> {
  const r = await mixedPrecision(setup, calibration, req, options);
  report.mixedPrecision = r.report;
  report.notes.push(...r.notes);
  if (options.mixedPrecision) recordFloatLayers(report, setup.plan, r.plan);
  return { plan: r.plan, params: r.params, weightParams: r.weightParams };
}

/** Nodes the full plan quantized that the mixed plan leaves float: outcomes and counts follow. */
function recordFloatLayers(report: QuantizeReport, full: QuantPlan, mixed: QuantPlan): void {
  const kept = new Set([...mixed.nodes].map(layerName));
  const dropped = new Map<string, Node>();
  for (const n of full.nodes) if (!kept.has(layerName(n))) dropped.set(layerName(n), n);
  for (const outcome of report.nodes) {
    if (!outcome.done || !dropped.has(outcome.node)) continue;
    outcome.done = false;
    outcome.note = 'left in float by mixed precision';
    report.quantized[outcome.opType]--;
    if (report.quantized[outcome.opType] === 0) delete report.quantized[outcome.opType];
  }
}

/** The layers mixed precision kept float, converted to float16 (Casts around them, weights stored as float16). */
export function applyFloat16Fallback(work: Model, report: QuantizeReport): void {
  const layers = new Set(
    (report.mixedPrecision?.plan ?? []).filter((l) => l.precision === 'float16').map((l) => l.layer),
  );
  if (layers.size === 0) return;
  const opTypes = new Set<string>();
  const others: string[] = [];
  for (const { node } of work.graph.walk()) if (layers.has(node.name)) opTypes.add(node.opType);
  for (const { node } of work.graph.walk())
    if (opTypes.has(node.opType) && !layers.has(node.name)) others.push(node.name);
  const fp16 = convertToFloat16(work, { opTypes: [...opTypes], excludeNodes: others });
  report.fp16 = fp16;
}
