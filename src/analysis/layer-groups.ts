/**
 * Layers grouped by where their names place them: exporters name nodes by module path
 * ('/encoder/layers.3/self_attn/q_proj/MatMul'), so the first `depth` segments of a name identify a
 * block ('/encoder/layers.3' at depth 2). Quantizing a group at a time measures a block's sensitivity.
 */
import type { Node } from '../onnx/node.js';
import { layerName } from './layers.js';

export interface LayerGroup {
  name: string;
  nodes: Node[];
}

/** One group per layer without `depth`; nodes keep their order, groups the order of their first node. */
export function groupLayers(layers: readonly Node[], depth?: number): LayerGroup[] {
  const groups = new Map<string, Node[]>();
  for (const node of layers) {
    const key = depth === undefined ? layerName(node) : prefix(layerName(node), depth);
    groups.set(key, [...(groups.get(key) ?? []), node]);
  }
  return [...groups].map(([name, nodes]) => ({ name, nodes }));
}

function prefix(name: string, depth: number): string {
  const parts = name.split('/').filter(Boolean);
  // The last segment is the op itself ('MatMul'): a name no deeper than `depth` is its own group.
  if (parts.length <= depth) return name;
  return `${name.startsWith('/') ? '/' : ''}${parts.slice(0, depth).join('/')}`;
}
