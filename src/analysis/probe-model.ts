/**
 * The quantized model made readable at its probes, in two variants that ONNX Runtime runs as they are
 * (integer kernels fused as in deployment):
 * - accumulated: each probe dequantized by an added DequantizeLinear and returned as an output; its
 *   error against the float model is everything quantized upstream of it;
 * - local: besides, every reader of a probe's integers reads instead the float model's value of that
 *   tensor, quantized with the probe's own scale and zero point (fed as an extra input). Each layer
 *   then runs quantized on (quantized) float inputs, so a probe's error is what the computation since
 *   the previous probes contributes alone — its input and weight rounding, its output quantization.
 */
import { cloneModel } from '../onnx/clone.js';
import type { Model } from '../onnx/model.js';
import { Node } from '../onnx/node.js';
import { makeValueInfo } from '../onnx/value-info.js';
import type { Probe } from './probes.js';

export interface ProbedModel {
  model: Model;
  /** Probe (integer tensor name) → the output holding its dequantized values. */
  outputs: Map<string, string>;
  /** Local variant: float tensor name → the input to feed its float values to. */
  floatInputs: Map<string, string>;
}

export function probedModel(quantized: Model, probes: readonly Probe[], local: boolean): ProbedModel {
  const model = cloneModel(quantized);
  const g = model.graph;
  const outputs = new Map<string, string>();
  const floatInputs = new Map<string, string>();
  const params = (p: Probe) => (p.zeroPoint ? [p.scale, p.zeroPoint] : [p.scale]);
  for (const p of probes) {
    if (outputs.has(p.quantized)) continue;
    const readers = [...g.consumers(p.quantized)];
    // 4- and 16-bit codes below opset 21 need the quantizer's own (com.microsoft) Q/DQ, as the model's.
    const domain = p.producer.opType === 'QuantizeLinear' ? p.producer.domain : '';
    const out = g.uniqueName(`${p.quantized}_probe`);
    const dq = new Node('DequantizeLinear', [p.quantized, ...params(p)], [out], {
      name: g.uniqueName(`${p.quantized}_probe_DequantizeLinear`),
      domain,
    });
    g.addNode(dq, { after: g.producer(p.quantized) });
    g.outputs.push(makeValueInfo(out, 'float32'));
    outputs.set(p.quantized, out);
    if (!local || readers.length === 0) continue;
    let input = floatInputs.get(p.float);
    if (!input) {
      input = g.uniqueName(`${p.float}_float`);
      g.inputs.push(makeValueInfo(input, 'float32'));
      floatInputs.set(p.float, input);
    }
    const replacement = g.uniqueName(`${p.quantized}_local`);
    const q = new Node('QuantizeLinear', [input, ...params(p)], [replacement], {
      name: g.uniqueName(`${p.quantized}_local_QuantizeLinear`),
      domain,
    });
    g.addNode(q, { before: readers[0] });
    for (const r of readers) r.setInputs(r.inputs.map((i) => (i === p.quantized ? replacement : i)));
  }
  g.sortTopologically();
  return { model, outputs, floatInputs };
}
