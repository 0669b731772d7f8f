import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportDocument } from '../../src/report/document.js';
import { escapeHtml } from '../../src/report/escape.js';
import { formatNumber } from '../../src/report/format-number.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { HISTOGRAMS, HOSTILE_NAME, LAYERS, sampleDocument } from './sample-document.js';

/** Every element the renderer writes; anything else in the output was injected. */
const OWN_TAGS = new Set(
  (
    '!doctype html head meta title link style body header h1 div nav a main section h2 table thead tbody ' +
    'tr th td p svg line text g rect path figure figcaption ul li wbr'
  ).split(' '),
);

function tagsOf(html: string): Set<string> {
  return new Set([...html.matchAll(/<\/?([a-zA-Z!][a-zA-Z0-9]*)/g)].map((m) => m[1].toLowerCase()));
}

/** A document with the hostile name in every text field a section kind has. */
function hostileDocument(): ReportDocument {
  const h = HOSTILE_NAME;
  return {
    title: h,
    subtitle: h,
    sections: [
      { kind: 'summary', title: h, rows: [{ label: h, before: h, after: h, note: h }] },
      { kind: 'table', title: h, columns: [h], rows: [[h]], caption: h },
      { kind: 'bars', title: h, unit: h, items: [{ label: h, value: 1, note: h }], caption: h },
      {
        kind: 'histograms',
        title: h,
        items: [{ label: h, counts: [1, 2], min: 0, max: 1, caption: h }],
        caption: h,
      },
      { kind: 'notes', title: h, items: [h] },
    ],
  };
}

describe('renderHtmlReport', () => {
  it('renders hostile names as text in every field: no element or attribute of theirs survives', () => {
    const html = renderHtmlReport(hostileDocument());
    assert.deepEqual(
      [...tagsOf(html)].filter((t) => !OWN_TAGS.has(t)),
      [],
    );
    assert.ok(!html.includes('<script') && !html.includes('<img'));
    // 5 section titles, a TOC entry each, the page title and heading, the subtitle, and the fields.
    const escaped = escapeHtml(HOSTILE_NAME);
    assert.ok(html.split(escaped).length - 1 >= 20, 'the name is shown, escaped, wherever it was given');
    assert.match(escaped, /^&lt;script&gt;document\.title=&quot;pwned&quot;&lt;\/script&gt;&lt;img/);
  });

  it('forbids scripts and network loads by policy, and needs no external file', () => {
    const html = renderHtmlReport(sampleDocument());
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    assert.doesNotMatch(html, /(src|href)="(?!#|data:)/, 'every link is an in-page anchor or a data: URL');
    assert.doesNotMatch(html, /@import|url\(/);
  });

  it('escapes quotes in attributes and replaces control characters', () => {
    assert.equal(escapeHtml(`a"b'c&d`), 'a&quot;b&#39;c&amp;d');
    assert.equal(escapeHtml('x\u0000y\u001bz\ttab\nline'), 'x\ufffdy\ufffdz\ttab\nline');
    const html = renderHtmlReport({
      title: 't',
      sections: [{ kind: 'bars', title: 'q"x', unit: 'dB', items: [{ label: 'l', value: 1 }] }],
    });
    assert.ok(html.includes('aria-label="q&quot;x"'));
  });

  it('summary leaves out columns no row fills; tables mark highlighted rows and number columns', () => {
    const html = renderHtmlReport({
      title: 't',
      sections: [
        { kind: 'summary', title: 'S', rows: [{ label: 'Size', after: '3 MB' }] },
        {
          kind: 'table',
          title: 'T',
          columns: ['Layer', 'Drop'],
          rows: [
            ['a', 0.5],
            ['b', 0.25],
          ],
          highlightRows: [1],
        },
        { kind: 'notes', title: 'N', items: [] },
      ],
    });
    assert.ok(html.includes('<th></th><th>After</th></tr>'), 'only the After column');
    assert.ok(html.includes('<th>Layer</th><th class="num">Drop</th>'));
    assert.ok(html.includes('<tr class="hl"><td>b</td><td class="num">0.25</td></tr>'));
    assert.ok(html.includes('<tr><td>a</td><td class="num">0.5</td></tr>'));
    assert.ok(html.includes('<p class="empty">None.</p>'));
    assert.ok(html.includes('<nav class="toc">'), 'three sections get a table of contents');
  });

  it(`a realistic report (${LAYERS} layers, ${HISTOGRAMS} histograms) stays far under 2 MB`, () => {
    const html = renderHtmlReport(sampleDocument());
    const bytes = new TextEncoder().encode(html).length;
    assert.ok(bytes < 2e6, `${bytes} bytes`);
    assert.equal(html.match(/<figure class="hist">/g)?.length, HISTOGRAMS);
  });
});

describe('formatNumber', () => {
  it('is short, locale-free and spells out non-finite values', () => {
    assert.equal(formatNumber(33.708089375268145), '33.71');
    assert.equal(formatNumber(0.000123), '1.23e-4');
    assert.equal(formatNumber(12345678.9), '1.23e+7');
    assert.equal(formatNumber(1234567), '1234567');
    assert.equal(formatNumber(-0.5), '-0.5');
    assert.equal(formatNumber(NaN), 'NaN');
    assert.equal(formatNumber(Infinity), '∞');
    assert.equal(formatNumber(-Infinity), '-∞');
  });
});
