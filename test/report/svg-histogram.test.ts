import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportSection } from '../../src/report/document.js';
import { MAX_COLUMNS, mergeBins, renderHistogramsSection } from '../../src/report/svg-histogram.js';

type Histogram = Extract<ReportSection, { kind: 'histograms' }>['items'][number];

function render(...items: Histogram[]): string {
  return renderHistogramsSection({ kind: 'histograms', title: 'Activations', items });
}

function clipLines(html: string): number[] {
  return [...html.matchAll(/<line x1="([^"]+)"[^>]*class="clip"/g)].map((m) => Number(m[1]));
}

/** Plot geometry (svg-histogram.ts): x from 6 to 294, counts from the baseline y = 118 up to y = 6. */
const LEFT = 6;
const PLOT = 288;
const BASE = 118;

describe('histograms section', () => {
  it('merges fine histograms into at most MAX_COLUMNS columns, keeping counts and edges', () => {
    const counts = Array.from({ length: 2048 }, (_, i) => i % 7);
    const columns = mergeBins({ label: 'a', counts, min: -2, max: 6 });
    // ceil(2048 / 144) = 15 bins a column: 136 full columns and one of 8 bins.
    assert.equal(columns.length, 137);
    assert.ok(columns.length <= MAX_COLUMNS);
    assert.equal(
      columns.reduce((n, c) => n + c.count, 0),
      counts.reduce((n, c) => n + c, 0),
    );
    assert.equal(columns[0].from, -2);
    assert.equal(columns[columns.length - 1].to, 6);
    assert.equal(columns[1].from, -2 + 15 * (8 / 2048));
    for (let i = 1; i < columns.length; i++) assert.equal(columns[i].from, columns[i - 1].to);
  });

  it('a histogram drawn from 200 000 bins is no bigger than one from 2048', () => {
    const size = (bins: number) =>
      render({ label: 'a', counts: Array.from({ length: bins }, (_, i) => 1 + (i % 13)), min: 0, max: 1 })
        .length;
    assert.ok(size(200_000) <= size(2048) * 1.05, `${size(200_000)} vs ${size(2048)}`);
  });

  it('bad counts count as zero; no usable data gives a message instead of a chart', () => {
    const columns = mergeBins({ label: 'a', counts: [NaN, -3, Infinity, 4], min: 0, max: 4 });
    assert.deepEqual(
      columns.map((c) => c.count),
      [0, 0, 0, 4],
    );
    for (const h of [
      { counts: [], min: 0, max: 1 },
      { counts: [0, 0], min: 0, max: 1 },
      { counts: [1, 2], min: 1, max: 0 },
      { counts: [1, 2], min: NaN, max: 1 },
      { counts: [1, 2], min: 0, max: Infinity },
    ]) {
      const html = render({ label: 'a', ...h });
      assert.ok(!html.includes('<svg'), JSON.stringify(h));
      assert.match(html, /No finite values to draw/);
    }
    assert.match(render(), /No histograms/);
  });

  it('draws the clipping range where it lies on the axis', () => {
    const html = render({ label: 'a', counts: [1, 5, 9, 5, 1, 1, 1, 1], min: -4, max: 4, clip: [-2, 2] });
    // Axis −4…4 over 288 px: −2 at 6 + 72, 2 at 6 + 216.
    assert.deepEqual(clipLines(html), [LEFT + 72, LEFT + 216]);
    assert.match(html, /clip \[-2, 2\]/);
    // Bins centred outside [−2, 2] — the first, and the last four — are drawn in red.
    assert.equal(html.match(/class="clipped"/g)?.length, 2);
  });

  it('the clipped outline follows empty bins down to the baseline instead of bridging them', () => {
    // Bins of width 1 over 0…8, clip [0, 2]: the clipped run is bins 2…7, of which 3 and 5 are empty.
    const html = render({ label: 'a', counts: [9, 9, 0, 1, 0, 1, 0, 0], min: 0, max: 8, clip: [0, 2] });
    const d = html.match(/<path d="([^"]+)" fill="[^"]+" class="clipped"/)![1];
    const points = [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    // x of bin edge k: 6 + 36 k. The empty bin 4 (x 150…186) lies on the baseline.
    assert.ok(points.some(([x, y]) => x === 150 && y === BASE));
    assert.ok(points.some(([x, y]) => x === 186 && y === BASE));
    assert.ok(
      points.every(([x]) => x >= 78),
      'the run starts at the clip bound',
    );
  });

  it('widens the axis to a clip bound outside the data, by at most the data span', () => {
    const counts = [1, 1, 1, 1];
    // Data −4…4 (span 8), clip −10: axis −10…4, so −10 at the left edge and 3 at 6 + 13/14 × 288.
    const near = render({ label: 'a', counts, min: -4, max: 4, clip: [-10, 3] });
    assert.deepEqual(clipLines(near), [LEFT, Number((LEFT + (13 / 14) * PLOT).toFixed(1))]);
    assert.ok(!near.includes('class="clipped"'), 'no value lies outside the clip range');
    // Clip −100 is further than one span: the axis stops at −12 and the bound is drawn at the edge.
    const far = render({ label: 'a', counts, min: -4, max: 4, clip: [-100, 3] });
    assert.equal(clipLines(far)[0], LEFT);
    assert.match(far, /class="tick">-12</);
  });

  it('uses a log scale for counts', () => {
    const html = render({ label: 'a', counts: [1, 100], min: 0, max: 2 });
    // Height of count c: log(1 + c) / log(101) × 112, so count 1 stands 16.8 px above the baseline.
    const heights = [...html.matchAll(/L[\d.]+ ([\d.]+)L/g)].map((m) =>
      Number((BASE - Number(m[1])).toFixed(1)),
    );
    assert.deepEqual(heights, [Number(((Math.log(2) / Math.log(101)) * 112).toFixed(1)), 112]);
  });

  it('a one-value histogram (min = max) and a missing clip still render', () => {
    const html = render({ label: 'a', counts: [10], min: 3, max: 3 });
    assert.match(html, /<path d="M/);
    assert.deepEqual(clipLines(html), []);
    assert.doesNotMatch(html, /="[^"]*(NaN|Infinity)[^"]*"/);
  });
});
