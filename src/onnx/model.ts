/**
 * A loaded ONNX model: the main graph as IR plus the ModelProto header (IR version, opsets, metadata,
 * functions, training info), which is carried through a save untouched unless edited.
 */
import { create } from '@bufbuild/protobuf';
import type { ByteSource } from './byte-source.js';
import {
  type ModelProto,
  ModelProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
} from './gen/onnx_pb.js';
import type { Graph } from './graph.js';

export class Model {
  constructor(
    public graph: Graph,
    /** Every ModelProto field except `graph`. */
    readonly header: ModelProto = create(ModelProtoSchema, { irVersion: 8n }),
    /** Files the model's tensors still read from; closed by dispose(). */
    readonly sources: readonly ByteSource[] = [],
  ) {}

  get irVersion(): number {
    return Number(this.header.irVersion);
  }

  set irVersion(v: number) {
    this.header.irVersion = BigInt(v);
  }

  /** The imported version of an operator-set domain ('' and 'ai.onnx' are the same domain). */
  opset(domain = ''): number | undefined {
    const d = normalizeDomain(domain);
    const entry = this.header.opsetImport.find((o) => normalizeDomain(o.domain) === d);
    return entry ? Number(entry.version) : undefined;
  }

  setOpset(domain: string, version: number): void {
    const d = normalizeDomain(domain);
    const entry = this.header.opsetImport.find((o) => normalizeDomain(o.domain) === d);
    if (entry) entry.version = BigInt(version);
    else this.header.opsetImport.push(create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }));
  }

  /** The opset imports as a plain record, '' for the default domain. */
  opsets(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const o of this.header.opsetImport) out[normalizeDomain(o.domain)] = Number(o.version);
    return out;
  }

  metadata(): Record<string, string> {
    return Object.fromEntries(this.header.metadataProps.map((p) => [p.key, p.value]));
  }

  setMetadata(key: string, value: string): void {
    const entry = this.header.metadataProps.find((p) => p.key === key);
    if (entry) entry.value = value;
    else this.header.metadataProps.push(create(StringStringEntryProtoSchema, { key, value }));
  }

  /** Closes the files behind lazily read tensors. The model's weights cannot be read afterwards. */
  dispose(): void {
    for (const s of this.sources) s.close?.();
  }
}

function normalizeDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}
