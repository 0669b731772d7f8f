/**
 * QAT → deployable model: the trained float weights go back into the clean (prepared, fake-quant-free)
 * model, and the static Q/DQ writer emits it with the learned scales as its parameters — the same plan,
 * the same writer and so the same kind of model PTQ produces (QDQ, or QOperator after conversion).
 */
import type { DtypeMap } from '../../onnx/infer-dtypes.js';
import type { Model } from '../../onnx/model.js';
import { type EmitOptions, type EmitReport, emitQdq } from '../../passes/qdq/emit.js';
import { type PlanOptions, planStatic } from '../../passes/qdq/plan.js';
import type { QuantParams, ScaleZeroPoint } from '../../quant/qparams.js';
import { writeParameters } from '../parameters.js';
import type { FakeQuantSite } from './insert.js';

export function exportQuantized(
  clean: Model,
  dtypes: DtypeMap,
  trained: ReadonlyMap<string, Float32Array>,
  sites: readonly FakeQuantSite[],
  planOptions: PlanOptions,
  emitOptions: EmitOptions,
  /** The training model, for the scales and zero points that were not learned. */
  training: Model,
): EmitReport {
  writeParameters(clean.graph, trained);
  const value = (name: string) => trained.get(name) ?? training.graph.initializers.get(name)!.toFloat32();
  const activations = new Map<string, ScaleZeroPoint>();
  const weights = new Map<string, QuantParams>();
  for (const s of sites) {
    const scale = value(s.scale);
    const zeroPoint = Int32Array.from(value(s.zeroPoint));
    if (s.kind === 'activation') {
      activations.set(s.key, { scale: Math.fround(scale[0]), zeroPoint: zeroPoint[0] });
    } else {
      weights.set(s.key, {
        type: s.type,
        granularity: s.axis === undefined ? { kind: 'tensor' } : { kind: 'axis', axis: s.axis },
        shape: s.axis === undefined ? [] : [scale.length],
        scale: Float32Array.from(scale),
        zeroPoint,
        codeRange: s.range,
      });
    }
  }
  const plan = planStatic(clean, dtypes, planOptions);
  return emitQdq(clean, plan, activations, { ...emitOptions, weightParams: weights });
}
