/**
 * Variants of one static quantization, built from its single calibration: some layers left float,
 * only some quantized, some with 4-bit weights. Sensitivity analysis and the mixed-precision search
 * build many of these; each is a copy of the prepared float model with its own plan written in QDQ,
 * using the scales the full model gets (a value that shared its producer's scale in the full plan
 * keeps that scale when it stands alone).
 */
import { isComputeLayer } from '../analysis/layers.js';
import type { DtypeMap } from '../onnx/infer-dtypes.js';
import { cloneModel } from '../onnx/clone.js';
import type { Model } from '../onnx/model.js';
import { type EmitOptions, emitQdq, rootOf, weightQParams } from '../passes/qdq/emit.js';
import { type PlanOptions, planStatic, type QuantPlan, type WeightPlan } from '../passes/qdq/plan.js';
import type { QuantParams, ScaleZeroPoint } from '../quant/qparams.js';
import type { QuantType } from '../quant/types.js';

export interface Variant {
  /** Layers (node names) left float. */
  keptFloat?: readonly string[];
  /** Quantize only these layers (node names); the other compute layers stay float. */
  only?: readonly string[];
  /** Layers whose weights get 4 bits. */
  fourBit?: ReadonlySet<string>;
}

export interface StaticSetup {
  /** The prepared float model (not yet written into). */
  work: Model;
  dtypes: DtypeMap;
  planOptions: PlanOptions;
  /** The full plan, and the calibrated parameters of its activations. */
  plan: QuantPlan;
  params: ReadonlyMap<string, ScaleZeroPoint>;
  emit: EmitOptions;
}

export class CandidateBuilder {
  private readonly params: Map<string, ScaleZeroPoint>;
  /** Names of the full plan's compute layers. */
  readonly layers: readonly string[];
  /** Compute layers the full plan already left float (a speed-aware target's choice, say). */
  private readonly unplanned: string[] = [];

  constructor(
    private readonly setup: StaticSetup,
    layers: readonly string[],
  ) {
    this.layers = layers;
    this.params = new Map(setup.params);
    for (const { node } of setup.work.graph.walk())
      if (isComputeLayer(node) && node.name && !setup.plan.nodes.has(node)) this.unplanned.push(node.name);
    for (const a of setup.plan.activations.values()) {
      const root = setup.params.get(rootOf(a, setup.plan));
      if (!this.params.has(a.name) && root) this.params.set(a.name, root);
    }
  }

  /** The plan of a variant, on `model` (the prepared model or a copy of it). */
  plan(model: Model, v: Variant): QuantPlan {
    const { planOptions } = this.setup;
    const only = v.only && new Set(v.only);
    const excluded = [
      ...(planOptions.filter.excludeNodes ?? []),
      ...this.unplanned,
      ...(v.keptFloat ?? []),
      ...(only ? this.layers.filter((l) => !only.has(l)) : []),
    ];
    return planStatic(model, this.setup.dtypes, {
      ...planOptions,
      filter: { ...planOptions.filter, excludeNodes: excluded },
    });
  }

  /** The emit options of a variant: its 4-bit weights' parameters added to any given. */
  emitOptions(plan: QuantPlan, v: Variant): EmitOptions {
    const { emit } = this.setup;
    if (!v.fourBit || v.fourBit.size === 0) return emit;
    const weightParams = new Map<string, QuantParams>(emit.weightParams ?? []);
    for (const w of plan.weights.values()) {
      if (w.uses.some((u) => v.fourBit!.has(u.node.name))) weightParams.set(w.key, fourBitParams(w, emit));
    }
    return { ...emit, weightParams };
  }

  build(v: Variant): Model {
    const model = cloneModel(this.setup.work);
    const plan = this.plan(model, v);
    emitQdq(model, plan, this.params, this.emitOptions(plan, v));
    return model;
  }

  /** The activation parameters, completed for values that stand alone in a variant. */
  get activationParams(): Map<string, ScaleZeroPoint> {
    return this.params;
  }
}

/**
 * 4-bit parameters of a weight planned for 8 bits: int4 (uint4 for unsigned per-tensor weights), full
 * range — the reduce-range workaround concerns 8-bit integer kernels, which 4-bit weights do not use.
 */
function fourBitParams(w: WeightPlan, emit: EmitOptions): QuantParams {
  return weightQParams(w, { ...emit, weightType: fourBitType(emit.weightType), reduceRange: false });
}

/** The 4-bit type of the same signedness as an 8-bit weight type. */
export function fourBitType(type: QuantType): QuantType {
  return type === 'uint8' ? 'uint4' : 'int4';
}
