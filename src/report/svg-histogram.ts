/**
 * A histograms section: small-multiple histograms as inline SVG, each with its clipping range drawn —
 * the region outside it shaded and the values that fall there in red, since those saturate.
 * Counts use a log scale: activations are peaked (a ReLU output is mostly zeros) and the tails, which
 * decide the clipping range, would be invisible on a linear one.
 */
import { COLORS } from './colors.js';
import type { ReportSection } from './document.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format-number.js';
import { px } from './scale.js';

type HistogramsSection = Extract<ReportSection, { kind: 'histograms' }>;
type Histogram = HistogramsSection['items'][number];

const WIDTH = 300;
const HEIGHT = 142;
const LEFT = 6;
const RIGHT = WIDTH - 6;
const TOP = 6;
const BASE = 118;
/** At most this many columns are drawn (about 2 px each); finer histograms are merged. */
export const MAX_COLUMNS = 144;

/** Bins merged into drawable columns, each with its value range. */
export interface Column {
  from: number;
  to: number;
  count: number;
}

export function renderHistogramsSection(s: HistogramsSection): string {
  const caption = s.caption ? `<p class="caption">${escapeHtml(s.caption)}</p>` : '';
  if (s.items.length === 0) return `<p class="empty">No histograms.</p>${caption}`;
  return `<div class="hists">\n${s.items.map(figure).join('\n')}\n</div>${caption}`;
}

function figure(h: Histogram): string {
  const legend = [`range [${formatNumber(h.min)}, ${formatNumber(h.max)}]`];
  if (h.clip) legend.push(`clip [${formatNumber(h.clip[0])}, ${formatNumber(h.clip[1])}]`);
  const columns = mergeBins(h);
  const body =
    columns.length > 0 ? histogramSvg(h, columns) : '<p class="empty">No finite values to draw.</p>';
  const caption = h.caption ? `<div class="caption">${escapeHtml(h.caption)}</div>` : '';
  return (
    // The name goes below the chart so that charts line up across a row whatever the names' lengths.
    `<figure class="hist">${body}<figcaption><div class="name">${escapeHtml(h.label)}</div>` +
    `<div class="legend">${escapeHtml(legend.join(' · '))} · log count</div>${caption}</figcaption></figure>`
  );
}

/**
 * The histogram's bins merged into at most MAX_COLUMNS columns. Bad counts (negative, not finite)
 * count as 0; an unusable range or no counts gives no columns. A range of one value (min = max)
 * gives a single column of zero width.
 */
export function mergeBins(h: Histogram): Column[] {
  const n = h.counts.length;
  if (n === 0 || !Number.isFinite(h.min) || !Number.isFinite(h.max) || h.max < h.min) return [];
  const per = Math.ceil(n / MAX_COLUMNS);
  const width = (h.max - h.min) / n;
  const columns: Column[] = [];
  for (let start = 0; start < n; start += per) {
    const end = Math.min(n, start + per);
    let count = 0;
    for (let i = start; i < end; i++) {
      const c = h.counts[i];
      if (Number.isFinite(c) && c > 0) count += c;
    }
    columns.push({ from: h.min + start * width, to: end === n ? h.max : h.min + end * width, count });
  }
  return columns.some((c) => c.count > 0) ? columns : [];
}

function histogramSvg(h: Histogram, columns: readonly Column[]): string {
  const [lo, hi] = domain(h);
  const x = (v: number) => LEFT + ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * (RIGHT - LEFT);
  const peak = Math.log1p(Math.max(...columns.map((c) => c.count)));
  const top = (c: Column) => BASE - (Math.log1p(c.count) / peak) * (BASE - TOP);
  const area = (cols: readonly Column[]) => {
    const d = [`M${px(x(cols[0].from))} ${BASE}`];
    for (const c of cols) {
      // A one-value histogram has zero width; 2 px keep it visible.
      const right = c.to > c.from ? x(c.to) : x(c.from) + 2;
      d.push(`L${px(x(c.from))} ${px(top(c))}L${px(right)} ${px(top(c))}`);
    }
    const last = cols[cols.length - 1];
    d.push(`L${px(last.to > last.from ? x(last.to) : x(last.from) + 2)} ${BASE}Z`);
    return d.join('');
  };
  const out = [
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(`histogram of ${h.label}`)}">`,
  ];
  const clip = h.clip && Number.isFinite(h.clip[0]) && Number.isFinite(h.clip[1]) ? h.clip : undefined;
  if (clip) {
    const [a, b] = [x(clip[0]), x(clip[1])];
    if (a > LEFT) out.push(shade(LEFT, a));
    if (b < RIGHT) out.push(shade(b, RIGHT));
  }
  out.push(`<path d="${area(columns)}" fill="${COLORS.bar}"/>`);
  if (clip) {
    const centre = (c: Column) => (c.from + c.to) / 2;
    // Each run stays contiguous, empty columns included, so the outline never bridges a gap.
    const below = columns.filter((c) => centre(c) < clip[0]);
    const above = columns.filter((c) => centre(c) > clip[1]);
    for (const run of [below, above])
      if (run.some((c) => c.count > 0))
        out.push(`<path d="${area(run)}" fill="${COLORS.highlight}" class="clipped"/>`);
    for (const v of clip) {
      const cx = px(x(v));
      out.push(
        `<line x1="${cx}" x2="${cx}" y1="${TOP - 4}" y2="${BASE}" stroke="${COLORS.highlight}" stroke-width="1.5" stroke-dasharray="4 3" class="clip"/>`,
      );
    }
  }
  out.push(`<line x1="${LEFT}" x2="${RIGHT}" y1="${BASE}" y2="${BASE}" stroke="${COLORS.axis}"/>`);
  out.push(...axisLabels(lo, hi, x));
  out.push('</svg>');
  return out.join('\n');
}

/**
 * The x range drawn: the data's, widened to show the clipping range when it lies outside, by at most
 * the data's own span (a far-away clip bound is drawn at the edge; the legend gives its value).
 */
function domain(h: Histogram): [number, number] {
  const span = h.max - h.min || Math.max(Math.abs(h.min), 1);
  let lo = h.max > h.min ? h.min : h.min - span / 2;
  let hi = h.max > h.min ? h.max : h.max + span / 2;
  if (h.clip && Number.isFinite(h.clip[0]) && Number.isFinite(h.clip[1])) {
    lo = Math.max(Math.min(lo, h.clip[0]), lo - span);
    hi = Math.min(Math.max(hi, h.clip[1]), hi + span);
  }
  return [lo, hi];
}

function shade(from: number, to: number): string {
  return `<rect x="${px(from)}" y="${TOP - 4}" width="${px(to - from)}" height="${BASE - TOP + 4}" fill="${COLORS.clipped}"/>`;
}

function axisLabels(lo: number, hi: number, x: (v: number) => number): string[] {
  const y = BASE + 14;
  const labels = [
    `<text x="${LEFT}" y="${y}" class="tick">${formatNumber(lo)}</text>`,
    `<text x="${RIGHT}" y="${y}" text-anchor="end" class="tick">${formatNumber(hi)}</text>`,
  ];
  const zero = x(0);
  // Zero, where the data's sign changes, unless it would collide with an end label.
  if (lo < 0 && hi > 0 && zero - LEFT > 40 && RIGHT - zero > 40) {
    labels.push(
      `<line x1="${px(zero)}" x2="${px(zero)}" y1="${BASE}" y2="${BASE + 4}" stroke="${COLORS.axis}"/>`,
      `<text x="${px(zero)}" y="${y}" text-anchor="middle" class="tick">0</text>`,
    );
  }
  return labels;
}
