/**
 * Node attributes. Scalars and lists stay in their AttributeProto (so they survive a round trip
 * exactly, int64 values included); tensors and graphs become IR objects so that weights in Constant
 * nodes and the bodies of If/Loop/Scan can be read and edited like the main graph.
 */
import { create } from '@bufbuild/protobuf';
import { QuantkitError } from '../errors.js';
import {
  AttributeProto_AttributeType as AT,
  type AttributeProto,
  AttributeProtoSchema,
} from './gen/onnx_pb.js';
import type { Graph } from './graph.js';
import type { Tensor } from './tensor.js';

export class Attribute {
  constructor(
    /** Scalar/list content and metadata; its t/tensors/g/graphs fields are unused (see below). */
    readonly proto: AttributeProto,
    readonly tensors: readonly Tensor[] = [],
    readonly graphs: readonly Graph[] = [],
  ) {}

  get name(): string {
    return this.proto.name;
  }

  get type(): AT {
    return this.proto.type;
  }

  static int(name: string, value: number | bigint): Attribute {
    return new Attribute(create(AttributeProtoSchema, { name, type: AT.INT, i: BigInt(value) }));
  }
  static ints(name: string, value: readonly (number | bigint)[]): Attribute {
    return new Attribute(
      create(AttributeProtoSchema, { name, type: AT.INTS, ints: value.map((v) => BigInt(v)) }),
    );
  }
  static float(name: string, value: number): Attribute {
    return new Attribute(create(AttributeProtoSchema, { name, type: AT.FLOAT, f: value }));
  }
  static floats(name: string, value: readonly number[]): Attribute {
    return new Attribute(create(AttributeProtoSchema, { name, type: AT.FLOATS, floats: [...value] }));
  }
  static string(name: string, value: string): Attribute {
    return new Attribute(
      create(AttributeProtoSchema, { name, type: AT.STRING, s: utf8Encoder.encode(value) }),
    );
  }
  static strings(name: string, value: readonly string[]): Attribute {
    return new Attribute(
      create(AttributeProtoSchema, {
        name,
        type: AT.STRINGS,
        strings: value.map((v) => utf8Encoder.encode(v)),
      }),
    );
  }
  static tensor(name: string, value: Tensor): Attribute {
    return new Attribute(create(AttributeProtoSchema, { name, type: AT.TENSOR }), [value]);
  }
  static graph(name: string, value: Graph): Attribute {
    return new Attribute(create(AttributeProtoSchema, { name, type: AT.GRAPH }), [], [value]);
  }
  static graphList(name: string, value: readonly Graph[]): Attribute {
    return new Attribute(create(AttributeProtoSchema, { name, type: AT.GRAPHS }), [], value);
  }
}

const utf8Encoder = new TextEncoder();
const utf8 = new TextDecoder();

/** Reads a typed attribute value; `where` names the node for error messages. */
export function readAttribute(attr: Attribute, want: AT, where: string): unknown {
  if (attr.type !== want) {
    throw new QuantkitError(`${where}: attribute '${attr.name}' is ${AT[attr.type]}, expected ${AT[want]}`);
  }
  const p = attr.proto;
  switch (want) {
    case AT.INT:
      return toSafeNumber(p.i, attr.name, where);
    case AT.INTS:
      return p.ints.map((v) => toSafeNumber(v, attr.name, where));
    case AT.FLOAT:
      return p.f;
    case AT.FLOATS:
      return [...p.floats];
    case AT.STRING:
      return utf8.decode(p.s);
    case AT.STRINGS:
      return p.strings.map((s) => utf8.decode(s));
    case AT.TENSOR:
      return attr.tensors[0];
    case AT.TENSORS:
      return attr.tensors;
    case AT.GRAPH:
      return attr.graphs[0];
    case AT.GRAPHS:
      return attr.graphs;
    default:
      return undefined;
  }
}

/**
 * int64 attributes beyond 2^53 are sentinels like INT64_MAX ("to the end" in Slice); they clamp to the
 * largest safe integer, which has the same meaning for any real tensor size.
 */
function toSafeNumber(v: bigint, name: string, where: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new QuantkitError(`${where}: attribute '${name}' is not a number`);
  return n;
}
