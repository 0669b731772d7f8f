/**
 * A bars section: a horizontal bar chart, worst first, as inline SVG. Models can have hundreds of
 * layers, so the chart shows the worst CHART_ITEMS and a table below lists every item with its note.
 */
import { COLORS } from './colors.js';
import type { ReportSection } from './document.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format-number.js';
import { htmlTable } from './html-table.js';
import { shortLabel } from './labels.js';
import { niceTicks, px } from './scale.js';

type BarsSection = Extract<ReportSection, { kind: 'bars' }>;
type BarItem = BarsSection['items'][number];

export const CHART_ITEMS = 40;

/** The page's content width, so that the chart is drawn at 1:1 on a desktop screen. */
const WIDTH = 936;
const LABEL_WIDTH = 330;
const LABEL_CHARS = 52;
const VALUE_WIDTH = 100;
/** The value column starts clear of the last tick's label. */
const VALUE_X = WIDTH - VALUE_WIDTH + 20;
const PLOT_X = LABEL_WIDTH + 10;
const PLOT_WIDTH = WIDTH - PLOT_X - VALUE_WIDTH;
const ROW = 18;
const BAR = 12;
const TOP = 22;
const BOTTOM = 6;

/**
 * Worst first, ties in the given order. NaN counts as worst: a metric that is not a number means a
 * broken layer, the first thing to look at.
 */
export function sortWorstFirst(items: readonly BarItem[], lowerIsWorse: boolean): BarItem[] {
  const badness = (v: number) => (Number.isNaN(v) ? Infinity : lowerIsWorse ? -v : v);
  return items
    .map((item, i) => ({ item, i, bad: badness(item.value) }))
    .sort((a, b) => (a.bad === b.bad ? a.i - b.i : a.bad > b.bad ? -1 : 1))
    .map((x) => x.item);
}

export function renderBarsSection(s: BarsSection): string {
  const sorted = sortWorstFirst(s.items, s.lowerIsWorse === true);
  const caption = s.caption ? `<p class="caption">${escapeHtml(s.caption)}</p>` : '';
  if (sorted.length === 0) return `<p class="empty">Nothing to chart.</p>${caption}`;
  const shown = sorted.slice(0, CHART_ITEMS);
  const parts = [barChart(shown, s.unit, s.title), caption];
  if (shown.length < sorted.length) {
    parts.push(
      `<p class="caption">The ${shown.length} worst of ${sorted.length} are charted; the table lists all.</p>`,
    );
  }
  if (shown.length < sorted.length || sorted.some((i) => i.note)) parts.push(fullTable(sorted, s.unit));
  return parts.join('\n');
}

function barChart(items: readonly BarItem[], unit: string, title: string): string {
  const finite = items.map((i) => i.value).filter(Number.isFinite);
  const axis = niceTicks(Math.min(0, ...finite), Math.max(0, ...finite), 4);
  const x = (v: number) =>
    PLOT_X + ((Math.min(Math.max(v, axis.lo), axis.hi) - axis.lo) / (axis.hi - axis.lo)) * PLOT_WIDTH;
  const height = TOP + items.length * ROW + BOTTOM;
  const out: string[] = [
    `<svg class="chart bars" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
  ];
  for (const t of axis.ticks) {
    const tx = px(x(t));
    out.push(
      `<line x1="${tx}" x2="${tx}" y1="${TOP - 4}" y2="${height - BOTTOM}" stroke="${t === 0 ? COLORS.axis : COLORS.grid}"/>`,
      `<text x="${tx}" y="${TOP - 8}" text-anchor="middle" class="tick">${formatNumber(t)}</text>`,
    );
  }
  out.push(`<text x="${VALUE_X}" y="${TOP - 8}" class="tick">${escapeHtml(unit)}</text>`);
  items.forEach((item, i) => {
    const y = TOP + i * ROW;
    const mid = px(y + ROW / 2);
    const fill = item.highlight ? COLORS.highlight : COLORS.bar;
    const tip = [item.label, `${formatNumber(item.value)} ${unit}`, item.note].filter(Boolean).join(' · ');
    out.push(`<g><title>${escapeHtml(tip)}</title>`);
    out.push(
      `<text x="${LABEL_WIDTH}" y="${mid}" text-anchor="end" dominant-baseline="central" class="label">${escapeHtml(shortLabel(item.label, LABEL_CHARS))}</text>`,
    );
    const from = x(Math.min(0, item.value));
    const to = x(Math.max(0, item.value));
    // A finite non-zero value always gets a visible sliver, however small next to the largest; an
    // infinite one runs to the end of the axis on its side, which may be where it starts.
    const w = Number.isFinite(item.value) && item.value !== 0 ? Math.max(1, to - from) : to - from;
    if (w > 0) {
      out.push(
        `<rect x="${px(from)}" y="${px(y + (ROW - BAR) / 2)}" width="${px(w)}" height="${BAR}" fill="${fill}"${item.highlight ? ' class="hl"' : ''}/>`,
      );
    }
    const valueClass = Number.isFinite(item.value) ? 'value' : 'value bad';
    out.push(
      `<text x="${VALUE_X}" y="${mid}" dominant-baseline="central" class="${valueClass}">${formatNumber(item.value)}</text></g>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

function fullTable(items: readonly BarItem[], unit: string): string {
  const rows = items.map((item, i) => [i + 1, item.label, item.value, item.note ?? '']);
  const highlight = new Set(items.flatMap((item, i) => (item.highlight ? [i] : [])));
  return htmlTable(['#', 'Name', unit || 'Value', 'Note'], rows, highlight);
}
