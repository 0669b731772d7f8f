/**
 * The reverse sweep: from the loss back to the parameters, each node on the path hands its outputs'
 * gradients to its rule, which emits the nodes computing its inputs' gradients; a value read by
 * several nodes sums their contributions. The forward graph stays in the model, so the backward
 * nodes can read any activation, and unused forward branches are pruned at the end.
 */
import { QuantkitError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import type { Graph } from '../onnx/graph.js';
import { inferDtypes } from '../onnx/infer-dtypes.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { makeValueInfo } from '../onnx/value-info.js';
import { constantsToInitializers } from '../passes/constants-to-initializers.js';
import { type DType, dtypeInfo } from '../tensor/dtype.js';
import { Emitter } from './context.js';
import type { GradientModel, GradientRequest } from './gradient-model.js';
import { inlineLocalFunctions } from './inline-functions.js';
import { raiseOpset } from './opset.js';
import { parametersToInputs } from './parameters.js';
import { differentiablePath } from './paths.js';
import { ruleFor } from './registry.js';
import { graphShapes } from './shapes.js';

export function buildBackward(source: Model, request: GradientRequest): GradientModel {
  const model = cloneModel(source);
  constantsToInitializers(model);
  const opset = raiseOpset(model);
  inlineLocalFunctions(model, (domain, opType) => ruleFor(domain, opType) !== undefined);
  const g = model.graph;
  const parameters = [...new Set(request.parameters)];
  checkRequest(g, request.loss, parameters, request.keepOutputs ?? []);
  parametersToInputs(g, parameters);

  const dtypes = inferDtypes(model);
  checkFloat(g, request.loss, 'the loss', dtypes.get(request.loss));
  for (const p of parameters) checkFloat(g, p, 'parameter', dtypes.get(p));
  const order = g.topologicalOrder();
  const path = differentiablePath(g, order, parameters, request.loss, dtypes);
  const ctx = new Emitter({ graph: g, opset, dtypes, shapes: graphShapes(g), needsGradient: path.needs });
  checkScalar(ctx, request.loss);

  const contributions = new Map<string, string[]>();
  const gradientOf = (value: string): string | undefined => {
    const list = contributions.get(value);
    if (!list) return undefined;
    if (list.length > 1) list.splice(0, list.length, ctx.sumContributions(list));
    const grad = list[0];
    if (!ctx.shape(grad)) ctx.setShape(grad, ctx.shape(value));
    if (!ctx.dtype(grad)) ctx.setDtype(grad, ctx.dtype(value));
    return grad;
  };
  const one = ctx.floatConstant(1, request.loss);
  const seed =
    ctx.shape(request.loss)?.length === 0 ? one : ctx.op('Expand', [one, ctx.shapeOf(request.loss)]);
  contributions.set(request.loss, [seed]);

  for (let i = path.nodes.length - 1; i >= 0; i--) {
    const node = path.nodes[i];
    const outputGrads = node.outputs.map((o) => (o ? gradientOf(o) : undefined));
    if (outputGrads.every((d) => d === undefined)) continue;
    const rule = ruleFor(node.domain, node.opType);
    if (!rule) {
      const op = node.isStandard ? node.opType : `${node.domain}.${node.opType}`;
      throw new QuantkitError(
        `${node.label} lies between the parameters and the loss '${request.loss}', and autodiff has no gradient ` +
          `rule for ${op}: register one with registerGradient('${node.domain}', '${node.opType}', rule), ` +
          `or leave the parameters before it out of the request`,
      );
    }
    const inputGrads = rule(node, outputGrads, ctx);
    node.inputs.forEach((name, k) => {
      const grad = inputGrads[k];
      if (grad === undefined || !path.needs(node, k)) return;
      const list = contributions.get(name);
      if (list) list.push(grad);
      else contributions.set(name, [grad]);
    });
  }

  const gradients = new Map<string, string>();
  const keep = (request.keepOutputs ?? []).filter((k) => k !== request.loss);
  g.outputs = [makeValueInfo(request.loss, ctx.dtype(request.loss), ctx.shape(request.loss))];
  for (const p of parameters) {
    const grad = gradientOf(p) ?? ctx.zeros(ctx.shapeValue(p), p);
    const out = ctx.fresh(`${p}_grad`);
    g.addNode(new Node('Identity', [grad], [out], { name: ctx.fresh(`${out}_node`) }));
    gradients.set(p, out);
    g.outputs.push(makeValueInfo(out, ctx.dtype(p), ctx.shape(p)));
  }
  for (const k of keep) g.outputs.push(makeValueInfo(k, ctx.dtype(k), ctx.shape(k)));
  g.removeDeadNodes();
  g.removeUnusedInitializers();
  return { model, gradients };
}

function checkRequest(g: Graph, loss: string, parameters: readonly string[], keep: readonly string[]): void {
  const defined = (name: string) =>
    g.producer(name) !== undefined || g.isGraphInput(name) || g.initializers.has(name);
  if (!defined(loss)) {
    throw new QuantkitError(
      `the loss '${loss}' is not a value of the model's main graph; name the node output holding it`,
    );
  }
  for (const p of parameters) {
    if (!g.initializers.has(p) && !g.isGraphInput(p)) {
      throw new QuantkitError(
        `parameter '${p}' is neither an initializer nor an input of the main graph; only those can be differentiated`,
      );
    }
  }
  for (const k of keep) {
    if (!defined(k))
      throw new QuantkitError(`keepOutputs names '${k}', which is not a value of the main graph`);
  }
}

function checkFloat(g: Graph, name: string, what: string, dtype: DType | undefined): void {
  if (dtype !== undefined && dtypeInfo(dtype).kind !== 'float') {
    throw new QuantkitError(`${what} '${name}' is ${dtype}; only floating-point values have gradients`);
  }
  if (dtype === undefined && g.initializers.has(name)) {
    throw new QuantkitError(`${what} '${name}' has no known element type`);
  }
}

function checkScalar(ctx: Emitter, loss: string): void {
  const shape = ctx.shape(loss);
  if (shape && shape.some((d) => typeof d === 'number' && d !== 1)) {
    throw new QuantkitError(
      `the loss '${loss}' has shape [${shape.join(', ')}]; it must be a scalar (reduce it with ReduceSum or ReduceMean)`,
    );
  }
}
