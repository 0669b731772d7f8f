/**
 * Makes chosen values readable as outputs of the main graph, wherever they live. Values inside If,
 * Loop and Scan bodies are carried out through their node: an If gets an extra output (the other
 * branch returns an empty tensor), a Loop or Scan an extra scan output (the value of every iteration,
 * stacked). Calibration uses this to observe activations inside control flow, which ONNX Runtime's own
 * calibrator cannot.
 */
import { Attribute } from '../onnx/attribute.js';
import { cloneModel } from '../onnx/clone.js';
import { definingGraphs } from '../onnx/defining-graphs.js';
import type { Graph } from '../onnx/graph.js';
import type { DtypeMap } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';
import { makeValueInfo } from '../onnx/value-info.js';
import { type DType, elementArrayFor } from '../tensor/dtype.js';

export interface ExposedModel {
  model: Model;
  /** Value name → the main-graph output holding it (an empty tensor when an If took the other branch). */
  outputs: Map<string, string>;
  /** Values that could not be exposed (inside a custom op's subgraph, or of unknown type). */
  unreachable: string[];
}

export function exposeValues(model: Model, names: Iterable<string>, dtypes: DtypeMap): ExposedModel {
  const copy = cloneModel(model);
  const main = copy.graph;
  const definedIn = definingGraphs(copy);
  const outputs = new Map<string, string>();
  const unreachable: string[] = [];
  const types = new Map(dtypes);
  for (const name of names) {
    const lifted = lift(name, definedIn.get(name), types);
    if (lifted === undefined) {
      unreachable.push(name);
      continue;
    }
    if (!main.isGraphOutput(lifted)) main.outputs.push(makeValueInfo(lifted, dtypes.get(name)));
    outputs.set(name, lifted);
  }
  return { model: copy, outputs, unreachable };
}

/** Carries `name` from graph `g` out to the main graph; returns its name there. */
function lift(name: string, g: Graph | undefined, dtypes: DtypeMap): string | undefined {
  const dtype = dtypes.get(name);
  if (!g || !dtype) return undefined;
  const owner = g.owner;
  if (!owner) return name;
  const parent = owner.graph;
  if (!parent || !owner.isStandard) return undefined;
  const existing = g.outputs.findIndex((o) => o.name === name);
  if (existing >= 0 && owner.opType === 'If') {
    // Already leaving the branch: follow the If's corresponding output. (A second graph output of the
    // same name would shift ONNX Runtime's positional matching of outputs.)
    return lift(owner.outputs[existing], parent, dtypes);
  }
  if (existing >= 0) {
    // A loop-carried value only leaves the loop as its last iteration's value; a copy under a new name
    // becomes a scan output holding every iteration's.
    const copy = g.uniqueName(`${name}_copy`);
    g.addNode(new Node('Identity', [name], [copy]));
    dtypes.set(copy, dtype);
    return liftNew(copy, g, owner, parent, dtype, dtypes);
  }
  return liftNew(name, g, owner, parent, dtype, dtypes);
}

/** Adds `name` (not yet an output of subgraph `g`) to the outputs of `g` and of its owner node. */
function liftNew(
  name: string,
  g: Graph,
  owner: Node,
  parent: Graph,
  dtype: DType,
  dtypes: DtypeMap,
): string | undefined {
  const out = parent.uniqueName(`${name}_exposed`);
  switch (owner.opType) {
    case 'If': {
      for (const branch of owner.subgraphs()) {
        if (branch === g) {
          branch.outputs.push(makeValueInfo(name, dtype));
        } else {
          const empty = branch.uniqueName(`${name}_empty`);
          const Ctor = elementArrayFor(dtype) as new (n: number) => Parameters<typeof Tensor.fromArray>[3];
          branch.addInitializer(Tensor.fromArray(empty, dtype, [0], new Ctor(0)));
          branch.outputs.push(makeValueInfo(empty, dtype));
        }
      }
      break;
    }
    case 'Loop':
    case 'Scan': {
      g.outputs.push(makeValueInfo(name, dtype));
      for (const attr of ['scan_output_axes', 'scan_output_directions']) {
        if (owner.opType === 'Scan' && owner.hasAttribute(attr)) {
          owner.setAttribute(Attribute.ints(attr, [...owner.getInts(attr), 0]));
        }
      }
      break;
    }
    default:
      return undefined;
  }
  owner.setOutputs([...owner.outputs, out]);
  g.invalidate();
  dtypes.set(out, dtype);
  return lift(out, parent, dtypes);
}
