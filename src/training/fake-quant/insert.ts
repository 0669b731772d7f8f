/**
 * Puts FakeQuant nodes exactly where static PTQ puts Q/DQ pairs (the same QuantPlan): after each
 * planned activation (values that share a scale in PTQ share one scale parameter here) and in front of
 * each planned weight's readers. Scales and zero points start from PTQ's (calibrated activations, the
 * weights' own ranges) and become initializers of the model, so the trainer can learn the scales.
 */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { Model } from '../../onnx/model.js';
import { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { makeValueInfo } from '../../onnx/value-info.js';
import { resolveActivations, rootOf } from '../../passes/qdq/emit.js';
import type { BiasPlan, QuantPlan } from '../../passes/qdq/plan.js';
import { GraphEditor } from '../graph-editor.js';
import type { QuantParams, ScaleZeroPoint } from '../../quant/qparams.js';
import { type QuantRange, type QuantType, typeRange } from '../../quant/types.js';
import { FAKE_QUANT_DOMAIN, FAKE_QUANT_OP, defineFakeQuant } from './function.js';
import type { ScaleLearning } from './gradient.js';

export interface FakeQuantSite {
  kind: 'activation' | 'weight';
  /** The activation whose scale it is (the root of values sharing it), or the WeightPlan key. */
  key: string;
  /** Initializers of the training model holding s and z (float32, broadcastable against the value). */
  scale: string;
  zeroPoint: string;
  type: QuantType;
  /** The codes FakeQuant clips to, and the export stores. */
  range: QuantRange;
  /** Per-channel weights: the channel axis; the export's scales have shape [channels]. */
  axis?: number;
  learn: ScaleLearning;
}

export interface InsertOptions {
  /** How activation and weight scales are learned. */
  learn: ScaleLearning;
  /** Weight code ranges by WeightPlan key (the type's range by default): ternary, reduce-range. */
  weightRanges?: ReadonlyMap<string, QuantRange>;
  activationType: QuantType;
  symmetricActivations: boolean;
  /** Elements per sample of each activation (LSQ's N for activations). */
  featureCounts: ReadonlyMap<string, number>;
}

const PREFIX = 'qat_';

export function insertFakeQuant(
  model: Model,
  plan: QuantPlan,
  activationParams: ReadonlyMap<string, ScaleZeroPoint>,
  weightParams: ReadonlyMap<string, QuantParams>,
  opts: InsertOptions,
): FakeQuantSite[] {
  const g = model.graph;
  defineFakeQuant(model);
  const sites = new Map<string, FakeQuantSite>();
  const resolved = resolveActivations(plan, activationParams, opts);
  for (const w of plan.weights.values()) {
    if (w.graph !== g) throw notInMainGraph(w.name);
    const p = weightParams.get(w.key)!;
    const t = g.initializers.get(w.name)!;
    const range = opts.weightRanges?.get(w.key) ?? typeRange(p.type);
    const dims = w.axis === undefined ? [] : t.dims.map((d, i) => (i === w.axis ? d : 1));
    const site = addSite(model, 'weight', w.key, p.scale, p.zeroPoint, dims, p.type, range, opts.learn);
    if (w.axis !== undefined) site.axis = w.axis;
    const perScale = t.size / p.scale.length;
    const out = addNode(model, w.name, site, lsqScale(perScale, range, p.zeroPoint[0]));
    for (const u of w.uses) u.node.setInput(u.input, out);
    sites.set(w.key, site);
  }
  for (const a of plan.activations.values()) {
    if (a.graph !== g) throw notInMainGraph(a.name);
    const root = rootOf(a, plan);
    let site = sites.get(root);
    if (!site) {
      // Fixed-range outputs (Sigmoid, Softmax, …) keep the range the writer gives them, unlearned.
      const fixed = plan.activations.get(root)?.fixedRange;
      const p = resolved.get(root)!;
      const range = typeRange(opts.activationType);
      const learn = fixed ? 'none' : opts.learn;
      site = addSite(
        model,
        'activation',
        root,
        [p.scale],
        [p.zeroPoint],
        [],
        opts.activationType,
        range,
        learn,
      );
      sites.set(root, site);
    }
    const features = opts.featureCounts.get(a.name) ?? 1;
    const zp = resolved.get(root)!.zeroPoint;
    const node = fakeQuantNode(model, a.name, site, lsqScale(features, site.range, zp));
    g.insertOnEdge(a.name, node);
    declareLike(model, node.outputs[0], a.name);
  }
  for (const b of plan.biases)
    fakeQuantBias(
      model,
      b,
      sites.get(rootOf(plan.activations.get(b.activation)!, plan))!,
      sites.get(b.weightKey)!,
    );
  return [...sites.values()];
}

/**
 * The Q/DQ writer stores a Conv/Gemm bias as int32 with scale s_x·s_w; the same rounding here keeps the
 * trained model and its export in step. The bias's gradient passes straight through (the int32 range
 * never clips), and the scales get none from it.
 */
function fakeQuantBias(model: Model, b: BiasPlan, activation: FakeQuantSite, weight: FakeQuantSite): void {
  const e = new GraphEditor(model, PREFIX);
  const flat = e.name('flat_shape');
  model.graph.addInitializer(Tensor.fromArray(flat, 'int64', [1], BigInt64Array.of(-1n)));
  const scale = e.op('Mul', [activation.scale, e.op('Reshape', [weight.scale, flat])]);
  const node = fakeQuantNode(
    model,
    b.bias,
    { scale, zeroPoint: e.scalar(0, 'zero'), range: { qmin: -(2 ** 31), qmax: 2 ** 31 - 1 }, learn: 'none' },
    1,
  );
  model.graph.addNode(node, { before: b.node });
  declareLike(model, node.outputs[0], b.bias);
  b.node.setInput(b.input, node.outputs[0]);
}

/** LSQ's g = 1/√(N·Qp), Qp the positive code levels above the zero point. */
function lsqScale(elements: number, r: QuantRange, zeroPoint: number): number {
  return 1 / Math.sqrt(elements * Math.max(1, r.qmax - zeroPoint));
}

function addSite(
  model: Model,
  kind: FakeQuantSite['kind'],
  key: string,
  scale: ArrayLike<number>,
  zeroPoint: ArrayLike<number>,
  dims: readonly number[],
  type: QuantType,
  r: QuantRange,
  learn: ScaleLearning,
): FakeQuantSite {
  const g = model.graph;
  const base = key.replace(/@\d+$/, '');
  const s = g.uniqueName(`${PREFIX}${base}_scale`);
  const z = g.uniqueName(`${PREFIX}${base}_zero_point`);
  g.addInitializer(Tensor.fromArray(s, 'float32', dims, Float32Array.from(scale)));
  g.addInitializer(Tensor.fromArray(z, 'float32', dims, Float32Array.from(zeroPoint)));
  return { kind, key, scale: s, zeroPoint: z, type, range: r, learn };
}

/** What a FakeQuant node reads and how it behaves. */
type FakeQuantInputs = Pick<FakeQuantSite, 'scale' | 'zeroPoint' | 'range' | 'learn' | 'axis'>;

function fakeQuantNode(model: Model, value: string, site: FakeQuantInputs, gradScale: number): Node {
  const g = model.graph;
  const attributes = [
    Attribute.floats('qmin', [site.range.qmin]),
    Attribute.floats('qmax', [site.range.qmax]),
    Attribute.string('learn', site.learn),
    Attribute.float('grad_scale', gradScale),
  ];
  if (site.axis !== undefined) attributes.push(Attribute.int('axis', site.axis));
  return new Node(FAKE_QUANT_OP, [value, site.scale, site.zeroPoint], [g.uniqueName(`${value}_fq`)], {
    name: g.uniqueName(`${PREFIX}${value}_${FAKE_QUANT_OP}`),
    domain: FAKE_QUANT_DOMAIN,
    attributes,
  });
}

/** A FakeQuant node for a weight, placed before the first node reading it; returns its output. */
function addNode(model: Model, weight: string, site: FakeQuantSite, gradScale: number): string {
  const node = fakeQuantNode(model, weight, site, gradScale);
  model.graph.addNode(node, { before: model.graph.nodes[0] });
  declareLike(model, node.outputs[0], weight);
  return node.outputs[0];
}

/**
 * FakeQuant's output has its input's type and shape; declared, because type inference does not look
 * inside model-local functions.
 */
function declareLike(model: Model, value: string, like: string): void {
  const g = model.graph;
  if (g.isGraphOutput(value)) return;
  const { dtype, shape } = g.tensorType(like);
  g.valueInfo.set(value, makeValueInfo(value, dtype ?? 'float32', shape));
}

function notInMainGraph(name: string): QuantkitError {
  return new QuantkitError(
    `'${name}' is quantized inside a subgraph (If/Loop/Scan); quantization-aware training handles ` +
      'main-graph models only — exclude those nodes with --exclude-nodes',
  );
}
