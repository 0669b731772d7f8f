/**
 * What `quantkit inspect` reports: interface, opsets, operator counts, parameter counts and bytes by
 * element type, the largest tensors and external-data files. Computed from the IR without reading a
 * single weight, so it is instant even for models of many gigabytes.
 */

import type { ValueInfoProto } from './gen/onnx_pb.js';
import { AttributeProto_AttributeType as AT } from './gen/onnx_pb.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';
import type { Dim } from './value-info.js';
import { tensorTypeOf } from './value-info.js';

export interface ValueSummary {
  name: string;
  dtype: string | null;
  shape: Dim[] | null;
}

export interface TensorSummary {
  name: string;
  dtype: string;
  dims: number[];
  bytes: number;
  /** The external-data file holding it, if any. */
  location?: string;
}

export interface ModelSummary {
  irVersion: number;
  producer: string;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  opsets: Record<string, number>;
  /** Nodes of the main graph by operator ('domain::Op' outside the default domain). */
  opCounts: Record<string, number>;
  /** The same, counting nodes inside If/Loop/Scan bodies too. */
  opCountsWithSubgraphs: Record<string, number>;
  nodes: number;
  /**
   * Elements of every constant tensor: initializers of all graphs (subgraphs included) and values
   * held by Constant nodes.
   */
  parameters: number;
  /** Storage bytes of the same tensors by element type (4-bit types packed, strings as UTF-8). */
  bytesByDtype: Record<string, number>;
  largestTensors: TensorSummary[];
  externalData: { location: string; tensors: number; bytes: number }[];
  metadata: Record<string, string>;
}

export function summarizeModel(model: Model, opts: { largest?: number } = {}): ModelSummary {
  const g = model.graph;
  const opCounts: Record<string, number> = {};
  const opCountsWithSubgraphs: Record<string, number> = {};
  for (const node of g.nodes) bump(opCounts, opKey(node));
  const constants: ConstantInfo[] = [];
  for (const graph of g.graphs()) for (const t of graph.initializers.values()) constants.push(tensorInfo(t));
  for (const { node } of g.walk()) {
    bump(opCountsWithSubgraphs, opKey(node));
    if (node.opType === 'Constant' && node.isStandard) constants.push(...constantNodeValues(node));
  }
  const bytesByDtype: Record<string, number> = {};
  const external = new Map<string, { tensors: number; bytes: number }>();
  let parameters = 0;
  for (const c of constants) {
    parameters += c.elements;
    bytesByDtype[c.dtype] = (bytesByDtype[c.dtype] ?? 0) + c.bytes;
    if (c.location) {
      const e = external.get(c.location) ?? { tensors: 0, bytes: 0 };
      e.tensors++;
      e.bytes += c.bytes;
      external.set(c.location, e);
    }
  }
  const largestTensors = constants
    .filter((c): c is ConstantInfo & { summary: TensorSummary } => c.summary !== undefined)
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, opts.largest ?? 10)
    .map((c) => c.summary);
  return {
    irVersion: model.irVersion,
    producer: [model.header.producerName, model.header.producerVersion].filter(Boolean).join(' '),
    inputs: g.inputs.filter((i) => !g.initializers.has(i.name)).map(valueSummary),
    outputs: g.outputs.map(valueSummary),
    opsets: model.opsets(),
    opCounts: sortKeys(opCounts),
    opCountsWithSubgraphs: sortKeys(opCountsWithSubgraphs),
    nodes: g.nodes.length,
    parameters,
    bytesByDtype: sortKeys(bytesByDtype),
    largestTensors,
    externalData: [...external].map(([location, e]) => ({ location, ...e })),
    metadata: model.metadata(),
  };
}

interface ConstantInfo {
  dtype: string;
  elements: number;
  bytes: number;
  location?: string;
  summary?: TensorSummary;
}

function tensorInfo(t: Tensor): ConstantInfo {
  const summary: TensorSummary = { name: t.name, dtype: t.dtype, dims: [...t.dims], bytes: t.byteLength };
  if (t.externalLocation) summary.location = t.externalLocation;
  return { dtype: t.dtype, elements: t.size, bytes: t.byteLength, location: t.externalLocation, summary };
}

/** The value of a Constant node, whichever of its attribute forms holds it. */
function constantNodeValues(node: Node): ConstantInfo[] {
  const out: ConstantInfo[] = [];
  for (const a of node.attributes()) {
    const p = a.proto;
    switch (a.type) {
      case AT.TENSOR:
        out.push(tensorInfo(a.tensors[0]));
        break;
      case AT.FLOAT:
        out.push({ dtype: 'float32', elements: 1, bytes: 4 });
        break;
      case AT.FLOATS:
        out.push({ dtype: 'float32', elements: p.floats.length, bytes: 4 * p.floats.length });
        break;
      case AT.INT:
        out.push({ dtype: 'int64', elements: 1, bytes: 8 });
        break;
      case AT.INTS:
        out.push({ dtype: 'int64', elements: p.ints.length, bytes: 8 * p.ints.length });
        break;
      case AT.STRING:
        out.push({ dtype: 'string', elements: 1, bytes: p.s.length });
        break;
      case AT.STRINGS:
        out.push({
          dtype: 'string',
          elements: p.strings.length,
          bytes: p.strings.reduce((n, s) => n + s.length, 0),
        });
        break;
    }
  }
  return out;
}

function valueSummary(v: ValueInfoProto): ValueSummary {
  const { dtype, shape } = tensorTypeOf(v.type);
  return { name: v.name, dtype: dtype ?? null, shape: shape ?? null };
}

function opKey(node: Node): string {
  return node.isStandard ? node.opType : `${node.domain}::${node.opType}`;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function sortKeys<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
