/**
 * How a node converted to float16 treats its float inputs and outputs. Most ops have one float type
 * T for all of them ('follow': float16 in, float16 out); a few read some inputs of any type, or need
 * float32 at some positions whatever T is, or produce float32 outputs of their own.
 */
import type { Node } from '../../onnx/node.js';

/** What a converted node needs at a float32 input: float16, float32, or either. */
export type InputRole = 'follow' | 'float32' | 'any';

/** Inputs that take any element type (the node reads only their shape, or converts them). */
const ANY_TYPE_INPUTS: Record<string, readonly number[]> = {
  Shape: [0],
  Size: [0],
  Cast: [0],
  CastLike: [0],
};

/** Inputs that are float32 by the operator's definition, whatever the node's T. */
const FLOAT32_INPUTS: Record<string, readonly number[]> = {
  Resize: [1, 2],
  Upsample: [1],
};

const FLOAT = 1;

export function inputRole(node: Node, index: number): InputRole {
  if (!node.isStandard) return 'follow';
  if (ANY_TYPE_INPUTS[node.opType]?.includes(index)) return 'any';
  if (FLOAT32_INPUTS[node.opType]?.includes(index)) return 'float32';
  return 'follow';
}

/** Whether a float32 output of the node becomes float16 when the node is converted. */
export function outputFollows(node: Node, index: number): boolean {
  if (!node.isStandard) return true;
  switch (node.opType) {
    case 'Cast':
      return node.getInt('to') === FLOAT;
    case 'LayerNormalization':
      // Mean and InvStdDev have the stash type, float32.
      return index === 0;
    default:
      return true;
  }
}
