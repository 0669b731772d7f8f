/**
 * FakeQuant: quantize-then-dequantize in float, y = (clip(round(x/s) + z, qmin, qmax) − z)·s, as a
 * model-local ONNX function in domain 'ai.quantkit'. Its body is standard ops, so ONNX Runtime (node
 * and web) inlines it and runs it with no custom kernel; its gradient (STE, LSQ, PACT) is a rule
 * registered with the autodiff engine (gradient.ts). It rounds half to even and computes x/s in
 * float32, as QuantizeLinear does, so the exported Q/DQ model sees exactly the codes training saw.
 *
 * Inputs: x; s and z broadcast against x (a scalar per tensor, or 1 everywhere but the channel axis per
 * channel); z is float here. Attributes: qmin, qmax (the code range, each a one-element float list:
 * the protobuf writer omits a scalar float equal to 0, which ONNX Runtime then reports missing, while a
 * list keeps it), learn ('none' | 'lsq' | 'pact'), grad_scale (LSQ's g), axis (the channel axis, for
 * export; absent per tensor).
 */
import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  AttributeProtoSchema,
  type FunctionProto,
  FunctionProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
} from '../../onnx/gen/onnx_pb.js';
import type { Model } from '../../onnx/model.js';

export const FAKE_QUANT_DOMAIN = 'ai.quantkit';
export const FAKE_QUANT_OP = 'FakeQuant';
export const FAKE_QUANT_ATTRIBUTES = ['qmin', 'qmax', 'learn', 'grad_scale', 'axis'] as const;

function bodyNode(opType: string, input: string[], output: string[], refFloats?: string) {
  const attribute = refFloats
    ? [create(AttributeProtoSchema, { name: 'value_floats', type: AT.FLOATS, refAttrName: refFloats })]
    : [];
  return create(NodeProtoSchema, { opType, input, output, attribute });
}

function fakeQuantFunction(opset: number): FunctionProto {
  return create(FunctionProtoSchema, {
    name: FAKE_QUANT_OP,
    domain: FAKE_QUANT_DOMAIN,
    input: ['x', 's', 'z'],
    output: ['y'],
    attribute: [...FAKE_QUANT_ATTRIBUTES],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })],
    node: [
      bodyNode('Constant', [], ['qmin'], 'qmin'),
      bodyNode('Constant', [], ['qmax'], 'qmax'),
      bodyNode('Div', ['x', 's'], ['scaled']),
      bodyNode('Round', ['scaled'], ['rounded']),
      bodyNode('Add', ['rounded', 'z'], ['shifted']),
      bodyNode('Min', ['shifted', 'qmax'], ['below_max']),
      bodyNode('Max', ['below_max', 'qmin'], ['codes']),
      bodyNode('Sub', ['codes', 'z'], ['centered']),
      bodyNode('Mul', ['centered', 's'], ['y']),
    ],
  });
}

/**
 * Gives `model` the FakeQuant function and its domain import, written for the model's current default
 * opset (a function's imports must agree with its model's); call again after the opset changes.
 */
export function defineFakeQuant(model: Model): void {
  const opset = model.opset('') ?? 17;
  const fns = model.header.functions.filter(
    (f) => !(f.domain === FAKE_QUANT_DOMAIN && f.name === FAKE_QUANT_OP),
  );
  model.header.functions = [...fns, fakeQuantFunction(opset)];
  if (model.opset(FAKE_QUANT_DOMAIN) === undefined) model.setOpset(FAKE_QUANT_DOMAIN, 1);
}
