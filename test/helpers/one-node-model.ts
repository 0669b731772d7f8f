/**
 * Builds a model of a single ONNX node straight from the generated protobuf schema and runs it in
 * ONNX Runtime. It deliberately bypasses quantkit's own IR, so ONNX Runtime serves as an independent
 * reference for the numeric code under test.
 */

import { create, toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import {
  type AttributeProto,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from '../../src/onnx/gen/onnx_pb.js';

/** Element types by ONNX Runtime's names. */
export type ElemType = keyof typeof ELEM_TYPES;

const ELEM_TYPES = {
  float32: TensorProto_DataType.FLOAT,
  float16: TensorProto_DataType.FLOAT16,
  bfloat16: TensorProto_DataType.BFLOAT16,
  float8e4m3fn: TensorProto_DataType.FLOAT8E4M3FN,
  float8e5m2: TensorProto_DataType.FLOAT8E5M2,
  int8: TensorProto_DataType.INT8,
  uint8: TensorProto_DataType.UINT8,
  int16: TensorProto_DataType.INT16,
  uint16: TensorProto_DataType.UINT16,
  int32: TensorProto_DataType.INT32,
  int4: TensorProto_DataType.INT4,
  uint4: TensorProto_DataType.UINT4,
} as const;

export interface ValueSpec {
  name: string;
  type: ElemType;
  shape: number[];
}

export interface OutputSpec extends ValueSpec {
  /**
   * Read the output through an exact Cast to this type. onnxruntime-node 1.30 cannot hand back int4/uint4
   * (its binding aborts the process with an out-of-memory error), bfloat16 or float8 tensors.
   */
  readAs?: ElemType;
}

/** A constant input, given as the raw_data bytes ONNX stores (little-endian, 4-bit types packed). */
export interface InitializerSpec extends ValueSpec {
  raw: Uint8Array;
}

export type AttributeValue = number | number[] | string;

export interface OneNodeSpec {
  opType: string;
  opset: number;
  /** The node's inputs in order; initializers become constants, the rest graph inputs. */
  inputs: Array<ValueSpec | InitializerSpec>;
  outputs: OutputSpec[];
  /** Integers (and integer lists) are INT/INTS attributes, strings STRING. */
  attributes?: Record<string, AttributeValue>;
}

export function buildOneNodeModel(spec: OneNodeSpec): Uint8Array {
  const isInit = (v: ValueSpec): v is InitializerSpec => 'raw' in v;
  const nodeOutput = (v: OutputSpec) => (v.readAs ? `${v.name}__raw` : v.name);
  const casts = spec.outputs
    .filter((v) => v.readAs)
    .map((v) =>
      create(NodeProtoSchema, {
        opType: 'Cast',
        name: `read_${v.name}`,
        input: [nodeOutput(v)],
        output: [v.name],
        attribute: [attribute('to', ELEM_TYPES[v.readAs as ElemType])],
      }),
    );
  const model = create(ModelProtoSchema, {
    irVersion: 10n,
    producerName: 'quantkit-tests',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(spec.opset) })],
    graph: create(GraphProtoSchema, {
      name: `one_${spec.opType}`,
      node: [
        create(NodeProtoSchema, {
          opType: spec.opType,
          name: spec.opType,
          input: spec.inputs.map((v) => v.name),
          output: spec.outputs.map(nodeOutput),
          attribute: Object.entries(spec.attributes ?? {}).map(([name, value]) => attribute(name, value)),
        }),
        ...casts,
      ],
      input: spec.inputs.filter((v) => !isInit(v)).map(valueInfo),
      output: spec.outputs.map((v) => valueInfo({ ...v, type: v.readAs ?? v.type })),
      initializer: spec.inputs.filter(isInit).map((v) =>
        create(TensorProtoSchema, {
          name: v.name,
          dataType: ELEM_TYPES[v.type],
          dims: v.shape.map(BigInt),
          rawData: v.raw,
        }),
      ),
    }),
  });
  return toBinary(ModelProtoSchema, model);
}

/** Runs the node on `feeds` with graph optimizations off, so the kernel itself is what runs. */
export async function runOneNode(
  spec: OneNodeSpec,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(buildOneNodeModel(spec), {
    graphOptimizationLevel: 'disabled',
    executionProviders: ['cpu'],
  });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function valueInfo(v: ValueSpec) {
  return create(ValueInfoProtoSchema, {
    name: v.name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: ELEM_TYPES[v.type],
          shape: create(TensorShapeProtoSchema, {
            dim: v.shape.map((d) =>
              create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }),
            ),
          }),
        }),
      },
    }),
  });
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.STRING,
      s: new TextEncoder().encode(value),
    });
  }
  if (Array.isArray(value)) {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.INTS,
      ints: value.map(BigInt),
    });
  }
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}
