/**
 * Renders a ReportDocument as one self-contained HTML page: inline CSS and SVG, no script, nothing
 * fetched. A Content-Security-Policy forbids scripts and loads besides, so that even a name that
 * slipped past escaping could not run code or reach the network.
 */
import type { ReportDocument, ReportSection } from './document.js';
import { escapeHtml } from './escape.js';
import { htmlTable } from './html-table.js';
import { STYLES } from './styles.js';
import { renderBarsSection } from './svg-bars.js';
import { renderHistogramsSection } from './svg-histogram.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** A table of contents helps from this many sections on. */
const TOC_SECTIONS = 3;

export function renderHtmlReport(doc: ReportDocument): string {
  const ids = doc.sections.map((_, i) => `s${i + 1}`);
  const toc =
    doc.sections.length >= TOC_SECTIONS
      ? `<nav class="toc">${doc.sections.map((s, i) => `<a href="#${ids[i]}">${escapeHtml(s.title)}</a>`).join(' ')}</nav>`
      : '';
  const subtitle = doc.subtitle ? `<div class="subtitle">${escapeHtml(doc.subtitle)}</div>` : '';
  const sections = doc.sections
    .map(
      (s, i) => `<section id="${ids[i]}">\n<h2>${escapeHtml(s.title)}</h2>\n${renderSection(s)}\n</section>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<link rel="icon" href="data:,">
<style>${STYLES}</style>
</head>
<body>
<header><h1>${escapeHtml(doc.title)}</h1>${subtitle}${toc}</header>
<main>
${sections}
</main>
</body>
</html>
`;
}

function renderSection(s: ReportSection): string {
  switch (s.kind) {
    case 'summary':
      return summaryTable(s);
    case 'table': {
      const caption = s.caption ? `<p class="caption">${escapeHtml(s.caption)}</p>` : '';
      return htmlTable(s.columns, s.rows, new Set(s.highlightRows)) + caption;
    }
    case 'bars':
      return renderBarsSection(s);
    case 'histograms':
      return renderHistogramsSection(s);
    case 'notes':
      return s.items.length === 0
        ? '<p class="empty">None.</p>'
        : `<ul class="notes">${s.items.map((n) => `<li>${escapeHtml(n)}</li>`).join('\n')}</ul>`;
  }
}

/** Label, before, after and note columns; a column no row fills is left out. */
function summaryTable(s: Extract<ReportSection, { kind: 'summary' }>): string {
  const columns = (['before', 'after', 'note'] as const).filter((k) =>
    s.rows.some((r) => r[k] !== undefined),
  );
  const head = ['', ...columns.map((c) => c[0].toUpperCase() + c.slice(1))];
  const rows = s.rows.map((r) => {
    const cells = columns.map((c) => `<td class="${c}">${escapeHtml(r[c] ?? '')}</td>`).join('');
    return `<tr><td>${escapeHtml(r.label)}</td>${cells}</tr>`;
  });
  const thead = `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>`;
  return `<div class="wide"><table class="summary">${thead}<tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}
