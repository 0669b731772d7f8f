/**
 * Folds inference-mode BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul+Add before it
 * (batchnorm-layers.ts), in every graph: the layer's weight and bias absorb the normalization and the
 * layer takes over the BatchNormalization's output name. Initializers that other nodes also read are
 * left as they are; the layer gets new ones.
 */
import { Attribute } from '../../onnx/attribute.js';
import type { Graph } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import type { Node } from '../../onnx/node.js';
import { Tensor } from '../../onnx/tensor.js';
import { dtypeInfo } from '../../tensor/dtype.js';
import { batchNormFactors, foldBias, scaleWeight } from './batchnorm-math.js';
import { findFoldSite } from './batchnorm-layers.js';
import { constantTensor } from './constants.js';

export interface FoldBatchNormReport {
  folded: number;
  /** One line per BatchNormalization that stays, saying why. */
  kept: string[];
}

export function foldBatchNorm(model: Model): FoldBatchNormReport {
  let folded = 0;
  const kept: string[] = [];
  for (const graph of [...model.graph.graphs()]) {
    for (const node of [...graph.nodes]) {
      if (node.opType !== 'BatchNormalization' || !node.isStandard) continue;
      const why = fold(model, graph, node);
      if (why === undefined) folded++;
      else kept.push(`${node.label} stays: ${why}`);
    }
  }
  return { folded, kept };
}

/** Folds `bn`, or says why not. */
function fold(model: Model, graph: Graph, bn: Node): string | undefined {
  if (bn.outputs.slice(1).some((o) => o !== '') || bn.getInt('training_mode', 0) !== 0) {
    return 'it is in training form (it outputs running statistics)';
  }
  if (bn.getInt('spatial', 1) !== 1) return 'it normalizes every element separately (spatial=0)';
  const params: Float64Array[] = [];
  for (const name of bn.inputs.slice(1, 5)) {
    const t = constantTensor(model, graph, name);
    if (!t) return `its parameter '${name}' is not a constant initializer`;
    if (dtypeInfo(t.dtype).kind !== 'float' || t.dims.length !== 1) {
      return `its parameter '${name}' is ${t.dtype}[${t.dims.join(', ')}], not a 1-D float tensor`;
    }
    params.push(
      t.dtype === 'float64' ? Float64Array.from(t.data() as Float64Array) : Float64Array.from(t.toFloat32()),
    );
  }
  if (params.length < 4) return 'it has fewer than 5 inputs';
  const channels = params[0].length;
  if (params.some((p) => p.length !== channels)) return 'its parameters differ in length';
  const site = findFoldSite(model, graph, bn.inputs[0], channels);
  if (typeof site === 'string') return site;

  const [gamma, beta, mean, variance] = params;
  const f = batchNormFactors(gamma, beta, mean, variance, bn.getFloat('epsilon', 1e-5));
  const w = site.weight;
  const weightName = writeConstant(
    graph,
    site.layer,
    1,
    Tensor.fromArray(w.name, 'float32', w.dims, scaleWeight(w.toFloat32(), w.dims, site.layout, f.scale)),
    `${w.name}_bnfold`,
  );
  const biasName = site.biasNode.inputs[site.biasInput] ?? '';
  writeConstant(
    graph,
    site.biasNode,
    site.biasInput,
    Tensor.fromArray(biasName, 'float32', site.biasDims, foldBias(site.bias, site.biasRows, f)),
    biasName === '' ? `${weightName}_bias` : `${biasName}_bnfold`,
  );
  // Gemm's beta multiplied C before folding; the folded C already includes it.
  if (site.layer.opType === 'Gemm') site.layer.setAttribute(Attribute.float('beta', 1));

  const [x, y] = [bn.inputs[0], bn.outputs[0]];
  graph.removeNode(bn);
  site.tail.setOutputs(site.tail.outputs.map((o) => (o === x ? y : o)));
  graph.valueInfo.delete(x);
  return undefined;
}

/**
 * Makes `node` read `tensor` at input `index`: in place when the initializer there belongs to this
 * node alone, else under a new name derived from `base`. Returns the name used.
 */
function writeConstant(graph: Graph, node: Node, index: number, tensor: Tensor, base: string): string {
  const current = node.inputs[index] ?? '';
  const old = graph.initializers.get(current);
  if (old && ownedBy(graph, node, current)) {
    tensor.extras = old.extras;
    graph.addInitializer(tensor);
    return current;
  }
  const name = graph.uniqueName(base);
  graph.addInitializer(tensor.renamed(name));
  const inputs = [...node.inputs];
  while (inputs.length <= index) inputs.push('');
  inputs[index] = name;
  node.setInputs(inputs);
  return name;
}

function ownedBy(graph: Graph, node: Node, name: string): boolean {
  const readers = graph.consumers(name);
  return (
    !graph.isGraphInput(name) &&
    !graph.isGraphOutput(name) &&
    readers.length === 1 &&
    readers[0] === node &&
    node.inputs.filter((i) => i === name).length === 1
  );
}
