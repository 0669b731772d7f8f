/**
 * int32 accumulator → float output: Cast, then Mul by (activation scale × weight scale), then Add of
 * the bias. The order of the inputs is the one ONNX Runtime's MatMulIntegerToFloatFusion matches:
 * the scale product reads the activation scale first, and the Add takes the bias as its second input.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import { Node } from '../../onnx/node.js';

const FLOAT = 1;

export interface RescaleSpec {
  /** Prefix of the new node and value names. */
  base: string;
  /** The int32 result of MatMulInteger/ConvInteger. */
  accumulator: string;
  activationScale: string;
  weightScale: string;
  /** A float value added last (broadcast as the original op would), or undefined. */
  bias?: string;
  /** The name the result must have: the output of the node being replaced. */
  output: string;
}

/** Adds the nodes before `at`. */
export function emitRescale(graph: Graph, at: Node, spec: RescaleSpec): void {
  const { base } = spec;
  const value = (suffix: string) => graph.uniqueName(`${base}_${suffix}`);
  const floats = value('float');
  const scale = value('scale');
  const scaled = spec.bias === undefined ? spec.output : value('scaled');
  const nodes = [
    new Node('Cast', [spec.accumulator], [floats], {
      name: graph.uniqueName(`${base}_Cast`),
      attributes: [Attribute.int('to', FLOAT)],
    }),
    new Node('Mul', [spec.activationScale, spec.weightScale], [scale], {
      name: graph.uniqueName(`${base}_ScaleMul`),
    }),
    new Node('Mul', [floats, scale], [scaled], { name: graph.uniqueName(`${base}_OutputMul`) }),
  ];
  if (spec.bias !== undefined) {
    nodes.push(
      new Node('Add', [scaled, spec.bias], [spec.output], { name: graph.uniqueName(`${base}_BiasAdd`) }),
    );
  }
  for (const n of nodes) graph.addNode(n, { before: at });
}
