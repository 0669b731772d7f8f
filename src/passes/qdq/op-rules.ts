/**
 * How each operator takes part in static quantization — the Q/DQ placement that ONNX Runtime's graph
 * optimizer turns into integer kernels (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...):
 * - compute ops are always quantized when selected: their activation inputs and weights get Q/DQ;
 * - follower ops are quantized only when every float input already is (otherwise a Q/DQ pair would add
 *   rounding error and buy no integer kernel);
 * - pass-through ops move data without changing values, so their output reuses their input's scale,
 *   which lets ONNX Runtime drop the Q/DQ around them and run them on the integers directly;
 * - Relu and Clip right after a quantized op are absorbed: no Q/DQ between them, the quantized range
 *   of their output does the clipping.
 */
import type { Node } from '../../onnx/node.js';

export type InputRole = 'activation' | 'weight' | 'bias' | 'ignore';
export type OpKind = 'compute' | 'follower' | 'pass-through';

export interface OpRule {
  kind: OpKind;
  /** Role of each input by index; inputs past the list are ignored. */
  inputs(node: Node): InputRole[];
  /** Per-channel axis of a weight input, for a weight of the given rank; undefined → per tensor. */
  weightAxis?(node: Node, rank: number): number | undefined;
  /** The output's range is known without calibration (Softmax: [0, 1]). */
  fixedRange?: readonly [number, number];
  /** How many leading outputs carry quantized data (MaxPool's indices output does not). */
  outputs?: number;
}

const act = (n = 1): InputRole[] => Array<InputRole>(n).fill('activation');
const first = (rest: number): InputRole[] => ['activation', ...Array<InputRole>(rest).fill('ignore')];

export const OP_RULES: Readonly<Record<string, OpRule>> = {
  Conv: { kind: 'compute', inputs: () => ['activation', 'weight', 'bias'], weightAxis: () => 0 },
  ConvTranspose: {
    kind: 'compute',
    inputs: () => ['activation', 'weight', 'bias'],
    // The weight is [C_in, C_out / group, ...]: axis 1 is the output channel only without groups.
    weightAxis: (n) => (n.getInt('group', 1) === 1 ? 1 : undefined),
  },
  MatMul: { kind: 'compute', inputs: () => act(2), weightAxis: (_n, rank) => (rank === 2 ? 1 : undefined) },
  Gemm: {
    kind: 'compute',
    inputs: () => ['activation', 'weight', 'bias'],
    weightAxis: (n) => (n.getInt('transB', 0) === 1 ? 0 : 1),
  },
  Add: { kind: 'follower', inputs: () => act(2) },
  Mul: { kind: 'follower', inputs: () => act(2) },
  Concat: { kind: 'follower', inputs: (n) => act(n.inputs.length) },
  AveragePool: { kind: 'follower', inputs: () => act(1) },
  GlobalAveragePool: { kind: 'follower', inputs: () => act(1) },
  Sigmoid: { kind: 'follower', inputs: () => act(1) },
  LeakyRelu: { kind: 'follower', inputs: () => act(1) },
  Softmax: { kind: 'follower', inputs: () => act(1), fixedRange: [0, 1] },
  Relu: { kind: 'follower', inputs: () => act(1) },
  Clip: { kind: 'follower', inputs: () => first(2) },
  MaxPool: { kind: 'pass-through', inputs: () => act(1), outputs: 1 },
  GlobalMaxPool: { kind: 'pass-through', inputs: () => act(1) },
  Reshape: { kind: 'pass-through', inputs: () => first(1) },
  Flatten: { kind: 'pass-through', inputs: () => act(1) },
  Transpose: { kind: 'pass-through', inputs: () => act(1) },
  Squeeze: { kind: 'pass-through', inputs: () => first(1) },
  Unsqueeze: { kind: 'pass-through', inputs: () => first(1) },
  Slice: { kind: 'pass-through', inputs: () => first(4) },
  Gather: { kind: 'pass-through', inputs: () => first(1) },
  Split: { kind: 'pass-through', inputs: () => first(1), outputs: Number.MAX_SAFE_INTEGER },
  Resize: { kind: 'pass-through', inputs: () => first(3) },
  DepthToSpace: { kind: 'pass-through', inputs: () => act(1) },
  SpaceToDepth: { kind: 'pass-through', inputs: () => act(1) },
};

/** Activations absorbed into the quantized op before them. */
export const ABSORBED_ACTIVATIONS: ReadonlySet<string> = new Set(['Relu', 'Clip']);

/** The default set: every op above (the plan still only quantizes followers next to quantized data). */
export const DEFAULT_OP_TYPES: readonly string[] = Object.keys(OP_RULES);
