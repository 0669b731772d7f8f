/**
 * Model → ModelProto bytes, as a list of pieces rather than one buffer: small messages are encoded by
 * the protobuf library, and tensor payloads are spliced in as references to wherever their bytes are
 * (input file, external file, memory). Writing the pieces in order gives the file; nothing ever holds
 * a second copy of the weights, which is what lets models near or above 2 GB be saved.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { QuantkitError } from '../errors.js';
import { onnxDataType } from '../tensor/dtype.js';
import type { Attribute } from './attribute.js';
import type { SourceRange } from './byte-source.js';
import {
  AttributeProto_AttributeType as AT,
  type AttributeProto,
  AttributeProtoSchema,
  type GraphProto,
  GraphProtoSchema,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProtoSchema,
} from './gen/onnx_pb.js';
import type { Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';
import { WIRE_LEN } from './wire-scan.js';

export type Piece = Uint8Array | SourceRange;

export interface ExternalDataOptions {
  /** File name for the side file, relative to the model's folder. */
  location: string;
  /** Tensors smaller than this many bytes stay inside the model file. Default 1024. */
  threshold?: number;
  /** Each tensor starts at a multiple of this offset, so runtimes can memory-map it. Default 4096. */
  align?: number;
}

export interface EncodedModel {
  pieces: Piece[];
  bytes: number;
  external?: { location: string; pieces: Piece[]; bytes: number };
}

/** protobuf's limit on a message; ONNX Runtime and every protobuf reader refuse larger files. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export function encodeModel(model: Model, opts: { externalData?: ExternalDataOptions } = {}): EncodedModel {
  const ext = opts.externalData ? new ExternalWriter(opts.externalData) : undefined;
  const w = new PieceWriter();
  w.raw(toBinary(ModelProtoSchema, { ...model.header, graph: undefined }));
  w.message(7, encodeMainGraph(model.graph, ext));
  return { pieces: w.pieces, bytes: w.length, external: ext?.result() };
}

/** Every piece of an encoded model concatenated; for models that fit in memory (and under 2 GB). */
export function joinPieces(pieces: readonly Piece[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of pieces) {
    const bytes = p instanceof Uint8Array ? p : p.source.read(p.offset, p.length);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

class PieceWriter {
  readonly pieces: Piece[] = [];
  length = 0;

  raw(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pieces.push(bytes);
    this.length += bytes.length;
  }

  range(r: SourceRange): void {
    this.pieces.push(r);
    this.length += r.length;
  }

  /** A length-delimited field whose content is another writer's pieces. */
  message(field: number, content: PieceWriter): void {
    this.header(field, content.length);
    for (const p of content.pieces) this.pieces.push(p);
    this.length += content.length;
  }

  /** Tag and length prefix of a length-delimited field. */
  header(field: number, length: number): void {
    const out: number[] = [];
    varint(out, field * 8 + WIRE_LEN);
    varint(out, length);
    this.raw(Uint8Array.from(out));
  }
}

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

class ExternalWriter {
  private readonly w = new PieceWriter();
  readonly threshold: number;
  private readonly align: number;
  constructor(private readonly opts: ExternalDataOptions) {
    this.threshold = opts.threshold ?? 1024;
    this.align = opts.align ?? 4096;
  }

  /** Appends a payload and returns its external_data entries. */
  add(payload: Uint8Array | SourceRange): TensorProto['externalData'] {
    const pad = (this.align - (this.w.length % this.align)) % this.align;
    if (pad > 0) this.w.raw(new Uint8Array(pad));
    const offset = this.w.length;
    if (payload instanceof Uint8Array) this.w.raw(payload);
    else this.w.range(payload);
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    return [
      entry('location', this.opts.location),
      entry('offset', String(offset)),
      entry('length', String(this.w.length - offset)),
    ];
  }

  result() {
    return { location: this.opts.location, pieces: this.w.pieces, bytes: this.w.length };
  }
}

function encodeMainGraph(g: Graph, ext: ExternalWriter | undefined): PieceWriter {
  const w = new PieceWriter();
  w.raw(toBinary(GraphProtoSchema, graphProto(g, false)));
  for (const t of g.initializers.values()) w.message(5, encodeTensor(t, ext));
  return w;
}

/** A main-graph initializer: header by the library, payload as a spliced piece (or external). */
function encodeTensor(t: Tensor, ext: ExternalWriter | undefined): PieceWriter {
  const w = new PieceWriter();
  const p = t.payload;
  const header = tensorHeader(t);
  const payload: Uint8Array | SourceRange | undefined =
    p.kind === 'bytes' ? p.bytes : p.kind === 'range' ? p.range : undefined;
  if (ext && p.kind !== 'strings' && t.byteLength > 0 && t.byteLength >= ext.threshold) {
    header.externalData = ext.add(payload ?? t.bytes());
    header.dataLocation = TensorProto_DataLocation.EXTERNAL;
    w.raw(toBinary(TensorProtoSchema, header));
    return w;
  }
  if (p.kind === 'typed') Object.assign(header, typedFields(p.proto));
  if (p.kind === 'strings') header.stringData = [...p.values];
  w.raw(toBinary(TensorProtoSchema, header));
  if (payload) {
    w.header(9, payload.length);
    if (payload instanceof Uint8Array) w.raw(payload);
    else w.range(payload);
  }
  return w;
}

function tensorHeader(t: Tensor): TensorProto {
  return create(TensorProtoSchema, {
    name: t.name,
    dims: t.dims.map((d) => BigInt(d)),
    dataType: onnxDataType(t.dtype),
    docString: t.extras.docString ?? '',
    metadataProps: t.extras.metadataProps ?? [],
  });
}

function typedFields(p: TensorProto): Partial<TensorProto> {
  return {
    floatData: p.floatData,
    int32Data: p.int32Data,
    int64Data: p.int64Data,
    doubleData: p.doubleData,
    uint64Data: p.uint64Data,
  };
}

/** A tensor as one in-memory message (subgraph initializers and attribute tensors). */
function tensorProto(t: Tensor): TensorProto {
  const header = tensorHeader(t);
  const p = t.payload;
  if (p.kind === 'typed') Object.assign(header, typedFields(p.proto));
  else if (p.kind === 'strings') header.stringData = [...p.values];
  else header.rawData = t.bytes();
  return header;
}

function graphProto(g: Graph, withInitializers: boolean): GraphProto {
  return create(GraphProtoSchema, {
    name: g.name,
    docString: g.docString,
    node: g.nodes.map(nodeProto),
    initializer: withInitializers ? [...g.initializers.values()].map(tensorProto) : [],
    input: g.inputs,
    output: g.outputs,
    valueInfo: [...g.valueInfo.values()],
    sparseInitializer: g.sparseInitializers,
    quantizationAnnotation: g.quantizationAnnotation,
    metadataProps: g.metadataProps,
  });
}

function nodeProto(n: Node): NodeProto {
  return create(NodeProtoSchema, {
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    overload: n.overload,
    docString: n.docString,
    input: [...n.inputs],
    output: [...n.outputs],
    attribute: n.attributes().map((a) => attributeProto(a, n)),
    metadataProps: n.metadataProps,
    deviceConfigurations: n.deviceConfigurations,
  });
}

function attributeProto(a: Attribute, n: Node): AttributeProto {
  const out: AttributeProto = create(AttributeProtoSchema, { ...a.proto });
  switch (a.type) {
    case AT.TENSOR:
      out.t = tensorProto(a.tensors[0]);
      break;
    case AT.TENSORS:
      out.tensors = a.tensors.map(tensorProto);
      break;
    case AT.GRAPH:
      out.g = graphProto(a.graphs[0], true);
      break;
    case AT.GRAPHS:
      out.graphs = a.graphs.map((g) => graphProto(g, true));
      break;
    default:
      if (a.tensors.length > 0 || a.graphs.length > 0) {
        throw new QuantkitError(
          `${n.label}: attribute '${a.name}' holds tensors or graphs but has type ${AT[a.type]}`,
        );
      }
  }
  return out;
}
