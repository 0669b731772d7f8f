/**
 * Sliding windows, shared by Conv and AveragePool: their attributes with ONNX's defaults and auto_pad
 * resolved, and the transposed window that carries dy back to the input.
 */
import { QuantkitError } from '../../errors.js';
import { Attribute } from '../../onnx/attribute.js';
import type { Node } from '../../onnx/node.js';
import type { GradientContext } from '../gradient-model.js';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads then end pads, one per spatial axis. */
  pads: number[];
}

export function windowOf(node: Node, ctx: GradientContext, kernel: number[]): Window {
  const n = kernel.length;
  const strides = node.getInts('strides', new Array(n).fill(1));
  const dilations = node.getInts('dilations', new Array(n).fill(1));
  const autoPad = node.getString('auto_pad', 'NOTSET');
  let pads = node.getInts('pads', new Array(2 * n).fill(0));
  if (autoPad === 'VALID') pads = new Array(2 * n).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const spatial = ctx.shape(node.inputs[0])?.slice(2);
    if (!spatial || spatial.some((d) => typeof d !== 'number')) {
      throw new QuantkitError(
        `${node.label}: auto_pad=${autoPad} needs the input's spatial size to compute pads, and it is not known statically; ` +
          'give the model a fixed input size or explicit pads',
      );
    }
    pads = samePads(spatial as number[], kernel, strides, dilations, autoPad === 'SAME_UPPER');
  }
  return { kernel, strides, dilations, pads };
}

function samePads(
  size: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  upper: boolean,
): number[] {
  const begin: number[] = [];
  const end: number[] = [];
  size.forEach((d, i) => {
    const out = Math.ceil(d / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - d);
    const small = Math.floor(total / 2);
    begin.push(upper ? small : total - small);
    end.push(upper ? total - small : small);
  });
  return [...begin, ...end];
}

/**
 * The adjoint of a forward window operation: ConvTranspose(dy, weight), sized spatially like `like`
 * (the forward input). Input positions after the last window get zero gradient. With static sizes,
 * output_padding gives the exact size; otherwise the ConvTranspose runs without end pads and a Pad —
 * negative where the forward end pads cut into it — fixes the size at run time.
 */
export function transposedWindow(
  ctx: GradientContext,
  dy: string,
  weight: string,
  win: Window,
  group: number,
  like: string,
): string {
  const n = win.kernel.length;
  const attrs = [
    Attribute.ints('strides', win.strides),
    Attribute.ints('dilations', win.dilations),
    Attribute.int('group', group),
  ];
  const spatial = ctx.shape(like)?.slice(2);
  if (spatial && spatial.length === n && spatial.every((d) => typeof d === 'number')) {
    const rest = (spatial as number[]).map((d, i) => {
      const span = (win.kernel[i] - 1) * win.dilations[i] + 1;
      return (d + win.pads[i] + win.pads[i + n] - span) % win.strides[i];
    });
    if (rest.some((r) => r > 0)) attrs.push(Attribute.ints('output_padding', rest));
    return ctx.op('ConvTranspose', [dy, weight], [...attrs, Attribute.ints('pads', win.pads)]);
  }
  const begin = win.pads.slice(0, n);
  const full = ctx.op(
    'ConvTranspose',
    [dy, weight],
    [...attrs, Attribute.ints('pads', [...begin, ...begin.map(() => 0)])],
  );
  const size = (v: string) => ctx.op('Shape', [v], [Attribute.int('start', 2)]);
  const extra = ctx.op('Sub', [size(like), size(full)]);
  const pads = ctx.op('Concat', [ctx.int64s(new Array(n + 4).fill(0)), extra], [Attribute.int('axis', 0)]);
  return ctx.op('Pad', [full, pads]);
}
