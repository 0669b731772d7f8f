/**
 * Structural copies of models: every graph, node and value type is copied, tensors are shared (their
 * payloads are immutable). This is how quantkit keeps the caller's model untouched while passes edit a
 * copy, at no cost in memory for the weights.
 */
import { clone as cloneMessage } from '@bufbuild/protobuf';
import { Attribute } from './attribute.js';
import {
  AttributeProtoSchema,
  ModelProtoSchema,
  SparseTensorProtoSchema,
  StringStringEntryProtoSchema,
  TensorAnnotationSchema,
  ValueInfoProtoSchema,
} from './gen/onnx_pb.js';
import { Graph } from './graph.js';
import { Model } from './model.js';
import { Node } from './node.js';

/** A copy of the model that can be edited freely. It does not own the model's files: dispose the original. */
export function cloneModel(model: Model): Model {
  return new Model(cloneGraph(model.graph), cloneMessage(ModelProtoSchema, model.header));
}

export function cloneGraph(g: Graph): Graph {
  const out = new Graph();
  out.name = g.name;
  out.docString = g.docString;
  out.inputs = g.inputs.map((v) => cloneMessage(ValueInfoProtoSchema, v));
  out.outputs = g.outputs.map((v) => cloneMessage(ValueInfoProtoSchema, v));
  for (const [k, v] of g.valueInfo) out.valueInfo.set(k, cloneMessage(ValueInfoProtoSchema, v));
  out.sparseInitializers = g.sparseInitializers.map((s) => cloneMessage(SparseTensorProtoSchema, s));
  out.quantizationAnnotation = g.quantizationAnnotation.map((a) => cloneMessage(TensorAnnotationSchema, a));
  out.metadataProps = g.metadataProps.map((p) => cloneMessage(StringStringEntryProtoSchema, p));
  for (const t of g.initializers.values()) out.addInitializer(t);
  for (const n of g.nodes) out.addNode(cloneNode(n));
  return out;
}

export function cloneNode(n: Node): Node {
  const copy = new Node(n.opType, n.inputs, n.outputs, {
    name: n.name,
    domain: n.domain,
    docString: n.docString,
    attributes: n
      .attributes()
      .map(
        (a) =>
          new Attribute(cloneMessage(AttributeProtoSchema, a.proto), a.tensors, a.graphs.map(cloneGraph)),
      ),
  });
  copy.overload = n.overload;
  copy.metadataProps = n.metadataProps.map((p) => cloneMessage(StringStringEntryProtoSchema, p));
  copy.deviceConfigurations = n.deviceConfigurations;
  return copy;
}
