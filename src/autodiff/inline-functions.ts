/**
 * Model-local functions without a gradient rule are differentiated through their bodies: each call
 * is replaced by the function's nodes (what ONNX Runtime does when it loads the model), after which
 * the body's standard operators find their rules. Calls that have a registered rule stay whole.
 */
import { clone } from '@bufbuild/protobuf';
import { QuantkitError } from '../errors.js';
import { Attribute } from '../onnx/attribute.js';
import {
  type AttributeProto,
  AttributeProtoSchema,
  type FunctionProto,
  type NodeProto,
  type TensorProto,
} from '../onnx/gen/onnx_pb.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { Tensor } from '../onnx/tensor.js';
import { dtypeFromOnnx } from '../tensor/dtype.js';

/** Functions calling functions nest at most this deep (ONNX forbids recursion; this stops a cycle). */
const MAX_DEPTH = 32;

export function inlineLocalFunctions(
  model: Model,
  hasRule: (domain: string, opType: string) => boolean,
): void {
  const g = model.graph;
  for (let depth = 0; ; depth++) {
    const calls = g.nodes
      .filter((n) => !n.isStandard && !hasRule(n.domain, n.opType))
      .map((n) => ({ node: n, fn: findFunction(model, n) }))
      .filter((c): c is { node: Node; fn: FunctionProto } => c.fn !== undefined);
    if (calls.length === 0) return;
    if (depth === MAX_DEPTH) {
      throw new QuantkitError(
        `model-local function ${calls[0].node.opType} calls itself through other functions`,
      );
    }
    for (const { node, fn } of calls) inlineCall(model, node, fn);
  }
}

function findFunction(model: Model, node: Node): FunctionProto | undefined {
  return model.header.functions.find(
    (f) => f.domain === node.domain && f.name === node.opType && f.overload === node.overload,
  );
}

function inlineCall(model: Model, call: Node, fn: FunctionProto): void {
  const g = model.graph;
  const where = `${call.label} (model-local function ${fn.domain}.${fn.name})`;
  for (const imp of fn.opsetImport) {
    const have = model.opset(imp.domain);
    if (have === undefined) model.setOpset(imp.domain, Number(imp.version));
    else if (have !== Number(imp.version)) {
      throw new QuantkitError(
        `${where}: the function uses opset ${imp.version} of domain '${imp.domain || 'ai.onnx'}' and the model ` +
          `opset ${have}; register a gradient rule for ${fn.domain}.${fn.name} instead of differentiating its body`,
      );
    }
  }
  const rename = new Map<string, string>();
  fn.input.forEach((name, i) => rename.set(name, call.inputs[i] ?? ''));
  fn.output.forEach((name, i) =>
    rename.set(name, call.outputs[i] ?? g.uniqueName(`${call.name || fn.name}/${name}`)),
  );
  const mapped = (name: string) => {
    if (name === '') return '';
    let m = rename.get(name);
    if (m === undefined) {
      m = g.uniqueName(`${call.name || fn.name}/${name}`);
      rename.set(name, m);
    }
    return m;
  };
  for (const p of fn.node) {
    const body = new Node(p.opType, p.input.map(mapped), p.output.map(mapped), {
      name: g.uniqueName(`${call.name || fn.name}/${p.name || p.opType}`),
      domain: p.domain,
      attributes: p.attribute.flatMap((a) => bodyAttribute(a, call, fn, p, where)),
    });
    g.addNode(body, { before: call });
  }
  g.removeNode(call);
}

/** A body attribute, with references to the call's attributes resolved (absent ones dropped). */
function bodyAttribute(
  a: AttributeProto,
  call: Node,
  fn: FunctionProto,
  p: NodeProto,
  where: string,
): Attribute[] {
  if (a.refAttrName) {
    const given = call.attribute(a.refAttrName);
    if (given) return [new Attribute(renamed(given.proto, a.name), given.tensors)];
    const fallback = fn.attributeProto.find((d) => d.name === a.refAttrName);
    return fallback ? bodyAttribute(renamed(fallback, a.name), call, fn, p, where) : [];
  }
  if (a.g || a.graphs.length > 0) {
    throw new QuantkitError(
      `${where}: node '${p.name || p.opType}' of the body holds a subgraph, which autodiff does not inline`,
    );
  }
  const tensors = [...(a.t ? [a.t] : []), ...a.tensors].map(tensorFromProto);
  const proto = clone(AttributeProtoSchema, a);
  proto.t = undefined;
  proto.tensors = [];
  return [new Attribute(proto, tensors)];
}

function renamed(a: AttributeProto, name: string): AttributeProto {
  const copy = clone(AttributeProtoSchema, a);
  copy.name = name;
  copy.refAttrName = '';
  return copy;
}

function tensorFromProto(p: TensorProto): Tensor {
  const dtype = dtypeFromOnnx(p.dataType);
  if (!dtype) throw new QuantkitError(`tensor '${p.name}' has the unknown data type ${p.dataType}`);
  const dims = p.dims.map(Number);
  if (p.rawData.length > 0) return new Tensor(p.name, dtype, dims, { kind: 'bytes', bytes: p.rawData });
  return new Tensor(p.name, dtype, dims, { kind: 'typed', proto: p });
}
