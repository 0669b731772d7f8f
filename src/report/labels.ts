/**
 * Shortens a name to `max` characters for a chart axis, keeping its end: the end of an ONNX node
 * name ("…/q_proj/MatMul") says the most. Charts give the whole name in a tooltip.
 */
export function shortLabel(name: string, max: number): string {
  const chars = Array.from(name);
  if (chars.length <= max) return name;
  const head = Math.floor((max - 1) / 3);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (max - 1 - head)).join('')}`;
}
