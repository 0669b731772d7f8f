/** HTML tables for report sections: numbers formatted and right-aligned, long tables in a scroll box. */
import { escapeHtml } from './escape.js';
import { formatNumber } from './format-number.js';

export type Cell = string | number;

/** Past this many rows a table scrolls on screen (printing shows every row). */
const SCROLL_ROWS = 25;

export function htmlTable(
  columns: readonly string[],
  rows: readonly (readonly Cell[])[],
  highlight: ReadonlySet<number> = new Set(),
): string {
  // A column of numbers only has its heading right-aligned over them.
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const head = columns
    .map((c, i) => (numeric[i] ? `<th class="num">${escapeHtml(c)}</th>` : `<th>${escapeHtml(c)}</th>`))
    .join('');
  const body = rows
    .map((row, i) => {
      const cells = row.map(cell).join('');
      return highlight.has(i) ? `<tr class="hl">${cells}</tr>` : `<tr>${cells}</tr>`;
    })
    .join('\n');
  const table = `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
  // A table too wide for the page scrolls sideways on its own instead of widening the page.
  return `<div class="${rows.length > SCROLL_ROWS ? 'scroll' : 'wide'}">${table}</div>`;
}

function cell(c: Cell): string {
  return typeof c === 'number' ? `<td class="num">${formatNumber(c)}</td>` : `<td>${breakable(c)}</td>`;
}

/**
 * Escaped text that may wrap after '/' and '_': ONNX names ("/block2/shortcut/Conv_output_0") have
 * no spaces, and a table of them would otherwise be too wide for the page or wrap mid-word.
 */
function breakable(text: string): string {
  return escapeHtml(text).replace(/[/_]/g, '$&<wbr>');
}
