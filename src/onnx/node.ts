/** An operator in a graph. Edges are value names, as in ONNX; '' marks an omitted optional input. */

import { QuantkitError } from '../errors.js';
import { type Attribute, readAttribute } from './attribute.js';
import {
  AttributeProto_AttributeType as AT,
  type NodeDeviceConfigurationProto,
  type StringStringEntryProto,
} from './gen/onnx_pb.js';
import type { Graph } from './graph.js';
import type { Tensor } from './tensor.js';

export interface NodeInit {
  name?: string;
  domain?: string;
  attributes?: readonly Attribute[];
  docString?: string;
}

export class Node {
  /** The graph holding this node; set by Graph.addNode. */
  graph: Graph | undefined;
  name: string;
  opType: string;
  domain: string;
  overload = '';
  docString: string;
  metadataProps: StringStringEntryProto[] = [];
  deviceConfigurations: NodeDeviceConfigurationProto[] = [];
  private _inputs: string[];
  private _outputs: string[];
  private readonly attrs = new Map<string, Attribute>();

  constructor(opType: string, inputs: readonly string[], outputs: readonly string[], init: NodeInit = {}) {
    this.opType = opType;
    this._inputs = [...inputs];
    this._outputs = [...outputs];
    this.name = init.name ?? '';
    this.domain = init.domain ?? '';
    this.docString = init.docString ?? '';
    for (const a of init.attributes ?? []) this.adopt(a);
  }

  get inputs(): readonly string[] {
    return this._inputs;
  }

  get outputs(): readonly string[] {
    return this._outputs;
  }

  setInput(index: number, name: string): void {
    this._inputs[index] = name;
    this.changed();
  }

  setInputs(names: readonly string[]): void {
    this._inputs = [...names];
    this.changed();
  }

  setOutput(index: number, name: string): void {
    this._outputs[index] = name;
    this.changed();
  }

  setOutputs(names: readonly string[]): void {
    this._outputs = [...names];
    this.changed();
  }

  /** A readable identity for messages: the node name, or its op type and first output. */
  get label(): string {
    return this.name
      ? `node '${this.name}' (${this.opType})`
      : `${this.opType} node producing '${this._outputs[0] ?? ''}'`;
  }

  /** True for the default ONNX domain ('' or 'ai.onnx'). */
  get isStandard(): boolean {
    return this.domain === '' || this.domain === 'ai.onnx';
  }

  attributes(): Attribute[] {
    return [...this.attrs.values()];
  }

  attribute(name: string): Attribute | undefined {
    return this.attrs.get(name);
  }

  hasAttribute(name: string): boolean {
    return this.attrs.has(name);
  }

  setAttribute(attr: Attribute): void {
    this.adopt(attr);
    if (attr.graphs.length > 0) this.changed();
  }

  removeAttribute(name: string): void {
    const had = this.attrs.get(name);
    this.attrs.delete(name);
    if (had && had.graphs.length > 0) this.changed();
  }

  getInt(name: string, fallback?: number): number {
    return this.get(name, AT.INT, fallback) as number;
  }
  getInts(name: string, fallback?: number[]): number[] {
    return this.get(name, AT.INTS, fallback) as number[];
  }
  getFloat(name: string, fallback?: number): number {
    return this.get(name, AT.FLOAT, fallback) as number;
  }
  getFloats(name: string, fallback?: number[]): number[] {
    return this.get(name, AT.FLOATS, fallback) as number[];
  }
  getString(name: string, fallback?: string): string {
    return this.get(name, AT.STRING, fallback) as string;
  }
  getTensor(name: string): Tensor | undefined {
    const a = this.attrs.get(name);
    return a ? (readAttribute(a, AT.TENSOR, this.label) as Tensor) : undefined;
  }

  /** Subgraphs held in this node's attributes (If branches, Loop/Scan bodies). */
  subgraphs(): Graph[] {
    const out: Graph[] = [];
    for (const a of this.attrs.values()) out.push(...a.graphs);
    return out;
  }

  private get(name: string, type: AT, fallback: unknown): unknown {
    const a = this.attrs.get(name);
    if (a) return readAttribute(a, type, this.label);
    if (fallback === undefined)
      throw new QuantkitError(`${this.label}: required attribute '${name}' is missing`);
    return fallback;
  }

  private adopt(attr: Attribute): void {
    this.attrs.set(attr.name, attr);
    for (const g of attr.graphs) g.owner = this;
  }

  private changed(): void {
    this.graph?.invalidate();
  }
}
