/**
 * ModelProto bytes → Model. The protobuf library decodes every message except the raw_data of the
 * main graph's initializers, whose positions are recorded instead (see wire-scan.ts): a model is
 * usable as soon as its structure is parsed, and weights are read only when asked for.
 */
import { type DescMessage, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import { isQuantkitError, QuantkitError } from '../errors.js';
import { type DType, dtypeFromOnnx, storageBytes } from '../tensor/dtype.js';
import { Attribute } from './attribute.js';
import type { ByteSource, SourceRange } from './byte-source.js';
import { checkExternalLocation } from './external-location.js';
import {
  AttributeProto_AttributeType as AT,
  type AttributeProto,
  type GraphProto,
  GraphProtoSchema,
  ModelProtoSchema,
  type NodeProto,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProtoSchema,
} from './gen/onnx_pb.js';
import { Graph } from './graph.js';
import { Model } from './model.js';
import { Node } from './node.js';
import { Tensor } from './tensor.js';
import { corrupt, type FieldSpan, gatherFields, scanFields, WIRE_LEN } from './wire-scan.js';

export interface DecodeContext {
  /** Names the model in error messages (its path). */
  readonly name: string;
  /**
   * Opens the external-data file at a location already checked to stay inside the model's folder.
   * Without it, a model with external data cannot be loaded (e.g. from bytes in a browser).
   */
  readonly openExternal?: (location: string) => ByteSource;
}

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;

export function decodeModel(src: ByteSource, ctx: DecodeContext): Model {
  const sources: ByteSource[] = [src];
  const opened = new Map<string, ByteSource>();
  const openExternal = (location: string, tensor: string): ByteSource => {
    const safe = checkExternalLocation(location, ctx.name, tensor);
    let s = opened.get(safe);
    if (!s) {
      if (!ctx.openExternal) {
        throw new QuantkitError(
          `${ctx.name}: tensor '${tensor}' stores its data in the external file '${safe}', which was not provided`,
        );
      }
      s = ctx.openExternal(safe);
      opened.set(safe, s);
      sources.push(s);
    }
    return s;
  };
  try {
    const rest: FieldSpan[] = [];
    let graphSpan: FieldSpan | undefined;
    for (const f of scanFields(src, 0, src.size, 'ModelProto')) {
      if (f.no === MODEL_GRAPH) {
        if (f.wire !== WIRE_LEN)
          throw corrupt(src, 'ModelProto', f.start, 'the graph field has the wrong wire type');
        graphSpan = f;
      } else {
        rest.push(f);
      }
    }
    const header = parse(ModelProtoSchema, gatherFields(src, rest), ctx.name, 'ModelProto');
    if (!graphSpan) {
      throw new QuantkitError(`${ctx.name}: not an ONNX model: it has no graph. Is this the right file?`);
    }
    const decoder = new GraphDecoder(ctx.name, openExternal);
    const graph = decoder.scannedGraph(src, graphSpan);
    if (header.irVersion === 0n || graph.outputs.length === 0) {
      throw new QuantkitError(
        `${ctx.name}: not an ONNX model: ${header.irVersion === 0n ? 'no IR version' : 'the graph has no outputs'}. ` +
          'Is this the right file?',
      );
    }
    return new Model(graph, header, sources);
  } catch (e) {
    for (const s of sources) s.close?.();
    throw e;
  }
}

class GraphDecoder {
  constructor(
    private readonly name: string,
    private readonly openExternal: (location: string, tensor: string) => ByteSource,
  ) {}

  /** The main graph, read field by field so that initializer payloads stay in the file. */
  scannedGraph(src: ByteSource, span: FieldSpan): Graph {
    const rest: FieldSpan[] = [];
    const initializers: Tensor[] = [];
    for (const f of scanFields(src, span.dataStart, span.end, 'GraphProto')) {
      if (f.no === GRAPH_INITIALIZER && f.wire === WIRE_LEN) initializers.push(this.scannedTensor(src, f));
      else rest.push(f);
    }
    const proto = parse(GraphProtoSchema, gatherFields(src, rest), this.name, 'GraphProto');
    return this.graph(proto, initializers);
  }

  graph(proto: GraphProto, initializers: Tensor[] = proto.initializer.map((t) => this.tensor(t))): Graph {
    const g = new Graph();
    g.name = proto.name;
    g.docString = proto.docString;
    g.inputs = proto.input;
    g.outputs = proto.output;
    for (const vi of proto.valueInfo) g.valueInfo.set(vi.name, vi);
    g.sparseInitializers = proto.sparseInitializer;
    g.quantizationAnnotation = proto.quantizationAnnotation;
    g.metadataProps = proto.metadataProps;
    for (const t of initializers) {
      if (g.initializers.has(t.name)) {
        throw new QuantkitError(`${this.name}: two initializers are named '${t.name}'; names must be unique`);
      }
      g.addInitializer(t);
    }
    for (const n of proto.node) g.addNode(this.node(n));
    return g;
  }

  private scannedTensor(src: ByteSource, span: FieldSpan): Tensor {
    const rest: FieldSpan[] = [];
    let raw: SourceRange | undefined;
    for (const f of scanFields(src, span.dataStart, span.end, 'TensorProto')) {
      if (f.no === TENSOR_RAW_DATA && f.wire === WIRE_LEN)
        raw = { source: src, offset: f.dataStart, length: f.end - f.dataStart };
      else rest.push(f);
    }
    return this.tensor(parse(TensorProtoSchema, gatherFields(src, rest), this.name, 'TensorProto'), raw);
  }

  tensor(p: TensorProto, raw?: SourceRange): Tensor {
    const name = p.name;
    const dtype = dtypeFromOnnx(p.dataType);
    if (dtype === undefined) {
      throw new QuantkitError(
        `${this.name}: tensor '${name}' has data type ${p.dataType}, which ONNX does not define` +
          ' (or this version of quantkit does not know). Re-export the model with a standard type.',
      );
    }
    const dims = p.dims.map((d) => {
      const n = Number(d);
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new QuantkitError(`${this.name}: tensor '${name}' has an invalid dimension ${d}`);
      }
      return n;
    });
    const extras = { docString: p.docString, metadataProps: p.metadataProps };
    const expected =
      dtype === 'string'
        ? undefined
        : storageBytes(
            dtype,
            dims.reduce((a, b) => a * b, 1),
          );
    const checkLength = (n: number, where: string) => {
      if (expected !== undefined && n !== expected) {
        throw new QuantkitError(
          `${this.name}: tensor '${name}' has ${n} bytes of ${where}, but ${dtype}[${dims.join(', ')}] needs ${expected}`,
        );
      }
    };
    if (p.dataLocation === TensorProto_DataLocation.EXTERNAL) {
      return new Tensor(name, dtype, dims, this.external(p, dtype, expected), extras);
    }
    if (raw) {
      checkLength(raw.length, 'raw_data');
      return new Tensor(name, dtype, dims, { kind: 'range', range: raw }, extras);
    }
    if (p.rawData.length > 0 || (expected === 0 && dtype !== 'string')) {
      checkLength(p.rawData.length, 'raw_data');
      return new Tensor(name, dtype, dims, { kind: 'bytes', bytes: p.rawData }, extras);
    }
    if (dtype === 'string') {
      return new Tensor(name, dtype, dims, { kind: 'strings', values: p.stringData }, extras);
    }
    const t = new Tensor(name, dtype, dims, { kind: 'typed', proto: stripForTyped(p) }, extras);
    t.bytes(); // validates the typed fields against the shape now, with the tensor named
    return t;
  }

  private external(p: TensorProto, dtype: DType, expected: number | undefined) {
    const entries = new Map(p.externalData.map((e) => [e.key, e.value]));
    const location = entries.get('location');
    if (location === undefined) {
      throw new QuantkitError(`${this.name}: tensor '${p.name}' is marked external but names no location`);
    }
    const source = this.openExternal(location, p.name);
    const int = (key: string, fallback: number) => {
      const v = entries.get(key);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
        throw new QuantkitError(
          `${this.name}: tensor '${p.name}' has an invalid external-data ${key} '${v}'`,
        );
      }
      return n;
    };
    const offset = int('offset', 0);
    const length = int('length', expected ?? source.size - offset);
    if (dtype === 'string')
      throw new QuantkitError(`${this.name}: string tensor '${p.name}' cannot use external data`);
    if (expected !== undefined && length !== expected) {
      throw new QuantkitError(
        `${this.name}: tensor '${p.name}' has ${length} bytes of external data, but its shape needs ${expected}`,
      );
    }
    if (offset + length > source.size) {
      throw new QuantkitError(
        `${this.name}: tensor '${p.name}' reads bytes ${offset}..${offset + length} of '${location}', ` +
          `which has only ${source.size} bytes. The data file is truncated or belongs to another model.`,
      );
    }
    return { kind: 'range' as const, range: { source, offset, length }, location: entries.get('location') };
  }

  private node(p: NodeProto): Node {
    const node = new Node(p.opType, p.input, p.output, {
      name: p.name,
      domain: p.domain,
      docString: p.docString,
      attributes: p.attribute.map((a) => this.attribute(a, p)),
    });
    node.overload = p.overload;
    node.metadataProps = p.metadataProps;
    node.deviceConfigurations = p.deviceConfigurations;
    return node;
  }

  private attribute(a: AttributeProto, owner: NodeProto): Attribute {
    const type = a.type !== AT.UNDEFINED ? a.type : inferAttributeType(a);
    if (type === AT.UNDEFINED) {
      throw new QuantkitError(
        `${this.name}: attribute '${a.name}' of node '${owner.name || owner.opType}' has no type and no value`,
      );
    }
    a.type = type;
    const tensors =
      type === AT.TENSOR && a.t
        ? [this.tensor(a.t)]
        : type === AT.TENSORS
          ? a.tensors.map((t) => this.tensor(t))
          : [];
    const graphs =
      type === AT.GRAPH && a.g
        ? [this.graph(a.g)]
        : type === AT.GRAPHS
          ? a.graphs.map((g) => this.graph(g))
          : [];
    // The IR objects own tensor and graph content from here on; drop the decoded copies.
    a.t = undefined;
    a.g = undefined;
    a.tensors = [];
    a.graphs = [];
    return new Attribute(a, tensors, graphs);
  }
}

/** IR version 1 files may omit the attribute type; the set field tells it. */
function inferAttributeType(a: AttributeProto): AT {
  if (a.g) return AT.GRAPH;
  if (a.t) return AT.TENSOR;
  if (a.graphs.length) return AT.GRAPHS;
  if (a.tensors.length) return AT.TENSORS;
  if (a.floats.length) return AT.FLOATS;
  if (a.ints.length) return AT.INTS;
  if (a.strings.length) return AT.STRINGS;
  if (a.s.length) return AT.STRING;
  if (a.f !== 0) return AT.FLOAT;
  return a.i !== 0n ? AT.INT : AT.UNDEFINED;
}

/** The typed payload keeps only its value fields; name, shape and type live on the Tensor. */
function stripForTyped(p: TensorProto): TensorProto {
  return { ...p, name: '', dims: [], docString: '', metadataProps: [] } as TensorProto;
}

function parse<D extends DescMessage>(
  schema: D,
  bytes: Uint8Array,
  file: string,
  what: string,
): MessageShape<D> {
  try {
    return fromBinary(schema, bytes, { readUnknownFields: true });
  } catch (e) {
    if (isQuantkitError(e)) throw e;
    throw new QuantkitError(
      `${file}: not a valid ONNX model: cannot decode ${what} (${(e as Error).message})`,
    );
  }
}
