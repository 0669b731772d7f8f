/**
 * A minimal static-quantization run for tests of the placement and writers: ranges are the plain
 * min/max of each planned activation on the given inputs, computed here (not by src/calibrate), so
 * these tests do not depend on the calibration code.
 */
import { cloneModel } from '../../src/onnx/clone.js';
import { inferDtypes } from '../../src/onnx/infer-dtypes.js';
import type { Model } from '../../src/onnx/model.js';
import { exposeValues } from '../../src/passes/expose-values.js';
import { emitQdq, type EmitOptions, type EmitReport } from '../../src/passes/qdq/emit.js';
import { DEFAULT_OP_TYPES } from '../../src/passes/qdq/op-rules.js';
import { type PlanOptions, type QuantPlan, planStatic } from '../../src/passes/qdq/plan.js';
import { qparamsFromRange, type ScaleZeroPoint } from '../../src/quant/qparams.js';
import { Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';

/**
 * Reduce-range weights: without VNNI, ONNX Runtime's u8s8 kernels saturate full-range int8 weights
 * (the fused model then differs from its own QDQ simulation), so tests that compare against float
 * use 7-bit weights to mean the same on every machine.
 */
export const DEFAULT_EMIT: EmitOptions = {
  activationType: 'uint8',
  symmetricActivations: false,
  weightType: 'int8',
  symmetricWeights: true,
  reduceRange: true,
};

export const DEFAULT_PLAN: PlanOptions = {
  opTypes: DEFAULT_OP_TYPES,
  filter: {},
  perChannel: true,
  quantizeBias: true,
};

export async function minMaxParams(
  model: Model,
  plan: QuantPlan,
  feeds: Record<string, NdArray>,
  emit: EmitOptions = DEFAULT_EMIT,
): Promise<Map<string, ScaleZeroPoint>> {
  const names = [...plan.activations.values()].filter((a) => !a.sameAs && !a.fixedRange).map((a) => a.name);
  const exposed = exposeValues(model, names, inferDtypes(model));
  const runner = await Runner.create(exposed.model);
  const out = await runner.run(feeds);
  await runner.release();
  const params = new Map<string, ScaleZeroPoint>();
  for (const name of names) {
    const data = out[exposed.outputs.get(name)!].data as Float32Array;
    let lo = 0;
    let hi = 0;
    for (const v of data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    params.set(
      name,
      qparamsFromRange(lo, hi, { type: emit.activationType, symmetric: emit.symmetricActivations }),
    );
  }
  return params;
}

/** Plans, calibrates on `feeds` and writes QDQ into a copy of `model`. */
export async function quantizeForTest(
  model: Model,
  feeds: Record<string, NdArray>,
  planOpts: PlanOptions = DEFAULT_PLAN,
  emit: EmitOptions = DEFAULT_EMIT,
): Promise<{ model: Model; plan: QuantPlan; report: EmitReport; params: Map<string, ScaleZeroPoint> }> {
  const copy = cloneModel(model);
  const plan = planStatic(copy, inferDtypes(copy), planOpts);
  const params = await minMaxParams(copy, plan, feeds, emit);
  const report = emitQdq(copy, plan, params, emit);
  return { model: copy, plan, report, params };
}
