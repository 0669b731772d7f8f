/** Which nodes the user lets quantkit quantize (--op-types, --exclude-op-types, --exclude-nodes). */
import type { Node } from '../onnx/node.js';

export interface NodeFilter {
  /** Only these op types; all eligible ones when absent. */
  opTypes?: readonly string[];
  excludeOpTypes?: readonly string[];
  excludeNodes?: readonly string[];
}

export function nodeSelected(node: Node, filter: NodeFilter): boolean {
  if (filter.excludeNodes?.includes(node.name)) return false;
  if (filter.excludeOpTypes?.includes(node.opType)) return false;
  return !filter.opTypes || filter.opTypes.includes(node.opType);
}
