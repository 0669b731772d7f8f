/** Building models in code (tests, synthetic models, passes that create subgraphs). */
import { create } from '@bufbuild/protobuf';
import type { ValueInfoProto } from './gen/onnx_pb.js';
import { ModelProtoSchema, OperatorSetIdProtoSchema } from './gen/onnx_pb.js';
import { Graph } from './graph.js';
import { Model } from './model.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';

export interface GraphSpec {
  name?: string;
  nodes: readonly Node[];
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
  initializers?: readonly Tensor[];
  valueInfo?: readonly ValueInfoProto[];
}

export function makeGraph(spec: GraphSpec): Graph {
  const g = new Graph();
  g.name = spec.name ?? 'main';
  g.inputs = [...spec.inputs];
  g.outputs = [...spec.outputs];
  for (const vi of spec.valueInfo ?? []) g.valueInfo.set(vi.name, vi);
  for (const t of spec.initializers ?? []) g.addInitializer(t);
  for (const n of spec.nodes) g.addNode(n);
  return g;
}

export interface ModelSpec {
  /** Opset per domain; '' is the default ONNX domain. */
  opsets?: Record<string, number>;
  irVersion?: number;
  producerName?: string;
}

export function makeModel(graph: Graph, spec: ModelSpec = {}): Model {
  const opsets = spec.opsets ?? { '': 17 };
  const header = create(ModelProtoSchema, {
    irVersion: BigInt(spec.irVersion ?? 8),
    producerName: spec.producerName ?? 'quantkit',
    opsetImport: Object.entries(opsets).map(([domain, version]) =>
      create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }),
    ),
  });
  return new Model(graph, header);
}
