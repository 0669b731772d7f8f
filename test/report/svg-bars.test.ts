import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportSection } from '../../src/report/document.js';
import { CHART_ITEMS, renderBarsSection, sortWorstFirst } from '../../src/report/svg-bars.js';

type Bars = Extract<ReportSection, { kind: 'bars' }>;

function bars(values: number[], extra: Partial<Bars> = {}): Bars {
  return {
    kind: 'bars',
    title: 'Per-layer error',
    unit: 'dB',
    items: values.map((value, i) => ({ label: `layer${i}`, value })),
    ...extra,
  };
}

/** The bars drawn, as [x, width] numbers. */
function rects(svg: string): [number, number][] {
  return [...svg.matchAll(/<rect x="([^"]+)" y="[^"]+" width="([^"]+)"/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
}

/** Chart geometry (svg-bars.ts): plot from x = 340 (labels 330 + 10) to 936 − 100 = 836. */
const PLOT_X = 340;
const PLOT_WIDTH = 496;

describe('bars section', () => {
  it('no items: a short message and no chart', () => {
    const html = renderBarsSection(bars([]));
    assert.ok(!html.includes('<svg'));
    assert.match(html, /Nothing to chart/);
  });

  it('one item spans the whole axis, 0 to its value on ticks 0, 5, 10', () => {
    const html = renderBarsSection(bars([10]));
    assert.deepEqual(rects(html), [[PLOT_X, PLOT_WIDTH]]);
    const ticks = [...html.matchAll(/class="tick">([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(ticks, ['0', '5', '10', 'dB']);
    assert.ok(!html.includes('<table'), 'no table when the chart shows everything and no item has a note');
  });

  it('negative values extend left of zero', () => {
    const html = renderBarsSection(bars([5, -5]));
    // Axis −5…5: zero at the middle of the plot.
    assert.deepEqual(rects(html), [
      [PLOT_X + PLOT_WIDTH / 2, PLOT_WIDTH / 2],
      [PLOT_X, PLOT_WIDTH / 2],
    ]);
  });

  it('many items: the worst CHART_ITEMS charted, every item in the table, highlights kept', () => {
    const values = Array.from({ length: 230 }, (_, i) => 10 + ((i * 37) % 230) / 10);
    const section = bars(values, { lowerIsWorse: true });
    section.items[100].highlight = true;
    const html = renderBarsSection(section);
    assert.equal(rects(html).length, CHART_ITEMS);
    assert.equal(html.match(/<tr[ >]/g)!.length, 230 + 1, 'a row per item plus the header');
    assert.match(html, new RegExp(`The ${CHART_ITEMS} worst of 230 are charted`));
    const charted = [...html.matchAll(/class="label">([^<]+)</g)].map((m) => m[1]);
    const expected = section.items
      .map((it) => it)
      .sort((a, b) => a.value - b.value)
      .slice(0, CHART_ITEMS)
      .map((it) => it.label);
    assert.deepEqual(charted, expected, 'lowest SQNR first');
    assert.match(html, /<tr class="hl"><td class="num">\d+<\/td><td>layer100<\/td>/);
  });

  it('NaN and infinities: sorted, labelled, and never written into coordinates', () => {
    const html = renderBarsSection(bars([1, NaN, Infinity, -Infinity, 3]));
    const values = [...html.matchAll(/class="value[^"]*">([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(values, ['NaN', '∞', '3', '1', '-∞']);
    assert.doesNotMatch(html, /="[^"]*(NaN|Infinity)[^"]*"/);
    // NaN draws no bar; ∞ runs to the end of the axis (0…5, from the finite values 1 and 3).
    const r = rects(html);
    assert.equal(r.length, 3, '∞, 3 and 1; −∞ lies left of an axis that starts at 0');
    assert.deepEqual(r[0], [PLOT_X, PLOT_WIDTH]);
    assert.match(html, /class="value bad">NaN</);
  });

  it('only non-finite values still give a valid chart', () => {
    const html = renderBarsSection(bars([NaN, NaN]));
    assert.equal(rects(html).length, 0);
    assert.doesNotMatch(html, /="[^"]*(NaN|Infinity)[^"]*"/);
  });

  it('sortWorstFirst keeps the given order among equals', () => {
    const items = [2, 1, 2, 1].map((value, i) => ({ label: String(i), value }));
    assert.deepEqual(
      sortWorstFirst(items, false).map((i) => i.label),
      ['0', '2', '1', '3'],
    );
    assert.deepEqual(
      sortWorstFirst(items, true).map((i) => i.label),
      ['1', '3', '0', '2'],
    );
  });
});
