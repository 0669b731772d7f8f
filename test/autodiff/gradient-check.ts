/**
 * Checks gradients built by autodiff against central finite differences, both computed by ONNX
 * Runtime: the gradient model gives the analytic gradients, and the forward model (parameters as
 * inputs) is run at θ ± h·e_i for each checked element.
 */
import assert from 'node:assert/strict';
import { buildGradientModel } from '../../src/autodiff/gradient-model.js';
import { parametersToInputs } from '../../src/autodiff/parameters.js';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph, makeModel } from '../../src/onnx/builders.js';
import { cloneModel } from '../../src/onnx/clone.js';
import type { Model } from '../../src/onnx/model.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { type Dim, makeValueInfo } from '../../src/onnx/value-info.js';
import { type RuntimeOptions, Runner } from '../../src/runtime/session.js';
import type { NdArray } from '../../src/tensor/ndarray.js';
import { createRng } from '../../src/tensor/random.js';

export type FloatType = 'float32' | 'float64';

export function randomArray(dtype: FloatType, shape: number[], seed: number, lo = -1, hi = 1): NdArray {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.nextFloat();
  return { dtype, shape, data };
}

export function tensorOf(name: string, a: NdArray): Tensor {
  return Tensor.fromArray(name, a.dtype, a.shape, a.data);
}

export interface OperandSpec {
  name: string;
  shape: number[];
  /**
   * 'param': an initializer, differentiated; 'fed': a graph input, differentiated; 'input': a graph
   * input, not differentiated; 'const': an initializer, not differentiated.
   */
  role: 'param' | 'fed' | 'input' | 'const';
  /** The shape the graph declares for an input (symbolic dimensions allowed); default `shape`. */
  declared?: Dim[];
  /** Values (default: random in [lo, hi]). */
  values?: NdArray;
  lo?: number;
  hi?: number;
}

export interface OneNodeSpec {
  op: string;
  operands: (OperandSpec | '')[];
  attributes?: Attribute[];
  dtype: FloatType;
  opset?: number;
  /** Outputs of the node; the first feeds the loss unless `lossFrom` says otherwise. */
  outputs?: string[];
  lossFrom?: string[];
  /** Extra nodes after the node under test (their outputs may feed the loss). */
  extraNodes?: Node[];
}

/**
 * A model of one node (plus any extra nodes) whose loss is Σ_k Σ output_k · R_k with fixed random
 * tensors R_k, so every output element contributes to the loss with its own weight.
 */
export async function oneNodeLossModel(
  spec: OneNodeSpec,
): Promise<{ model: Model; feeds: Record<string, NdArray>; parameters: string[] }> {
  const outputs = spec.outputs ?? ['y'];
  const feeds: Record<string, NdArray> = {};
  const initializers: Tensor[] = [];
  const inputs = [];
  const parameters: string[] = [];
  let seed = 100;
  for (const o of spec.operands) {
    if (o === '') continue;
    const values = o.values ?? randomArray(spec.dtype, o.shape, seed++, o.lo, o.hi);
    if (o.role === 'input' || o.role === 'fed') {
      feeds[o.name] = values;
      inputs.push(makeValueInfo(o.name, values.dtype, o.declared ?? o.shape));
      if (o.role === 'fed') parameters.push(o.name);
    } else {
      initializers.push(tensorOf(o.name, values));
      if (o.role === 'param') parameters.push(o.name);
    }
  }
  const node = new Node(
    spec.op,
    spec.operands.map((o) => (o === '' ? '' : o.name)),
    outputs,
    { name: spec.op.toLowerCase(), attributes: spec.attributes },
  );
  const forward = makeModel(
    makeGraph({
      nodes: [node, ...(spec.extraNodes ?? [])],
      inputs,
      outputs: (spec.lossFrom ?? [outputs[0]]).map((o) => makeValueInfo(o)),
      initializers,
    }),
    { opsets: { '': spec.opset ?? 17 } },
  );
  return {
    model: await withWeightedSumLoss(forward, spec.lossFrom ?? [outputs[0]], feeds, spec.dtype),
    feeds,
    parameters,
  };
}

/** Appends loss = Σ_k Σ v_k·R_k to a model; the shapes of the v_k come from running it once. */
export async function withWeightedSumLoss(
  model: Model,
  values: string[],
  feeds: Record<string, NdArray>,
  dtype: FloatType,
): Promise<Model> {
  const runner = await Runner.create(model, { extraOutputs: values });
  const got = await runner.run(feeds, values);
  await runner.release();
  const m = cloneModel(model);
  const g = m.graph;
  const terms = values.map((v, k) => {
    g.addInitializer(tensorOf(`R_${k}`, randomArray(dtype, got[v].shape, 7 + k)));
    g.addNode(new Node('Mul', [v, `R_${k}`], [`weighted_${k}`]));
    g.addNode(
      new Node('ReduceSum', [`weighted_${k}`], [`term_${k}`], { attributes: [Attribute.int('keepdims', 0)] }),
    );
    return `term_${k}`;
  });
  g.addNode(new Node(terms.length === 1 ? 'Identity' : 'Sum', terms, ['loss']));
  g.outputs = [makeValueInfo('loss', dtype, [])];
  return m;
}

export interface CheckOptions {
  /** Finite-difference step. */
  h?: number;
  /** Largest allowed max|analytic − numeric| / max|numeric| per parameter. */
  tolerance?: number;
  /** Check at most this many elements per parameter (evenly spread). */
  maxElements?: number;
  runtime?: RuntimeOptions;
}

export interface CheckResult {
  /** Relative error per parameter. */
  errors: Record<string, number>;
  /** The analytic gradients. */
  gradients: Record<string, NdArray>;
}

/**
 * Compares d loss / d parameter from the gradient model with central differences of the loss.
 * Parameters are initializers of `model` or inputs given in `feeds` (their values are the evaluation point).
 */
export async function checkGradients(
  model: Model,
  loss: string,
  parameters: string[],
  feeds: Record<string, NdArray>,
  opts: CheckOptions = {},
): Promise<CheckResult> {
  const h = opts.h ?? 1e-5;
  // One thread each: the sessions are tiny, and a pool would only contend with other work.
  const runtime: RuntimeOptions = { threads: 1, ...opts.runtime };
  const tolerance = opts.tolerance ?? 1e-3;
  const values: Record<string, NdArray> = {};
  const fixed = { ...feeds };
  for (const p of parameters) {
    const t = model.graph.initializers.get(p);
    const given = feeds[p];
    values[p] = t
      ? ({ dtype: t.dtype, shape: [...t.dims], data: t.data().slice() } as NdArray)
      : { ...given, data: given.data.slice() };
    delete fixed[p];
  }
  const { model: gradModel, gradients } = buildGradientModel(model, { loss, parameters });
  const gradRunner = await Runner.create(gradModel, runtime);
  const analytic = await gradRunner.run({ ...fixed, ...values });
  await gradRunner.release();

  const forward = cloneModel(model);
  parametersToInputs(forward.graph, parameters);
  forward.graph.outputs = forward.graph.outputs.filter((o) => o.name === loss);
  const runner = await Runner.create(forward, { ...runtime, optimization: 'disabled' });
  const lossAt = async () => Number((await runner.run({ ...fixed, ...values }, [loss]))[loss].data[0]);

  const errors: Record<string, number> = {};
  const out: Record<string, NdArray> = {};
  for (const p of parameters) {
    const grad = analytic[gradients.get(p)!] as NdArray;
    assert.deepEqual(grad.shape, values[p].shape, `gradient of ${p} has the parameter's shape`);
    out[p] = grad;
    const data = values[p].data as Float32Array | Float64Array;
    const n = data.length;
    const count = Math.min(n, opts.maxElements ?? 400);
    let worst = 0;
    let scale = 0;
    for (let j = 0; j < count; j++) {
      const i = Math.floor((j * n) / count);
      const saved = data[i];
      data[i] = saved + h;
      const up = await lossAt();
      data[i] = saved - h;
      const down = await lossAt();
      data[i] = saved;
      const numeric = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(Number(grad.data[i]) - numeric));
      scale = Math.max(scale, Math.abs(numeric));
    }
    errors[p] = scale === 0 ? worst : worst / scale;
    assert.ok(
      errors[p] <= tolerance,
      `d loss / d ${p}: relative error ${errors[p].toExponential(2)} > ${tolerance} (max |numeric| ${scale.toExponential(2)})`,
    );
  }
  await runner.release();
  return { errors, gradients: out };
}

/** Builds a one-node model and checks every parameter's gradient. */
export async function checkOneNode(spec: OneNodeSpec, opts: CheckOptions = {}): Promise<CheckResult> {
  const { model, feeds, parameters } = await oneNodeLossModel(spec);
  return checkGradients(model, 'loss', parameters, feeds, opts);
}
