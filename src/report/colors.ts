/** The report's palette: distinguishable in colour-blind vision and in greyscale print. */
export const COLORS = {
  bar: '#4c78a8',
  highlight: '#d62728',
  clipped: '#fbe3e3',
  grid: '#e5e7eb',
  axis: '#9ca3af',
  muted: '#6b7280',
  text: '#1f2937',
} as const;
