/**
 * The HTML report as a person sees it: opened in headless Chromium, it must render with no console
 * error, fetch nothing, run no script, fit the window's width, and its screenshot must show the
 * charts — bars and histograms in their colours where the page laid them out. Skipped when Chromium
 * is not installed. QUANTKIT_SCREENSHOTS=dir keeps the screenshots for a look.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { COLORS } from '../../src/report/colors.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { withTempDir } from '../helpers/fixtures.js';
import { quantizeWithReport } from './cnn-report.js';
import { chromiumPath, HeadlessChromium, type Page } from './headless-chromium.js';
import { HOSTILE_NAME, sampleDocument } from './sample-document.js';

const chromium = chromiumPath();
const WIDTH = 1000;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Layout {
  scrollWidth: number;
  scripts: number;
  images: number;
  title: string;
  text: string;
  sections: string[];
  bars: (Box & { highlight: boolean })[];
  histograms: Box[];
}

const LAYOUT = `(() => {
  const box = (e) => {
    const b = e.getBoundingClientRect();
    return { x: b.left + scrollX, y: b.top + scrollY, w: b.width, h: b.height };
  };
  return {
    scrollWidth: document.documentElement.scrollWidth,
    scripts: document.scripts.length,
    images: document.images.length,
    title: document.title,
    text: document.body.innerText,
    sections: [...document.querySelectorAll('h2')].map((h) => h.textContent),
    bars: [...document.querySelectorAll('svg.bars rect')].map((e) => ({ ...box(e), highlight: e.classList.contains('hl') })),
    histograms: [...document.querySelectorAll('figure.hist svg')].map(box),
  };
})()`;

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

function isColor(png: PNG, x: number, y: number, hex: string): boolean {
  const at = (Math.round(y) * png.width + Math.round(x)) * 4;
  return rgb(hex).every((c, i) => Math.abs(png.data[at + i] - c) <= 4);
}

/** Fraction of the pixels of `box` that have colour `hex`. */
function share(png: PNG, box: Box, hex: string): number {
  let n = 0;
  let all = 0;
  for (let y = Math.ceil(box.y); y < box.y + box.h; y++)
    for (let x = Math.ceil(box.x); x < box.x + box.w; x++, all++) if (isColor(png, x, y, hex)) n++;
  return n / all;
}

async function openAndShoot(browser: HeadlessChromium, path: string, name: string) {
  const page: Page = await browser.open(pathToFileURL(path).href, WIDTH);
  const layout = await page.evaluate<Layout>(LAYOUT);
  const shot = await page.screenshot();
  if (process.env.QUANTKIT_SCREENSHOTS) writeFileSync(join(process.env.QUANTKIT_SCREENSHOTS, name), shot);
  assert.deepEqual(page.problems, { consoleErrors: [], exceptions: [], logErrors: [], requests: [] });
  assert.equal(layout.scripts, 0);
  assert.equal(layout.images, 0);
  assert.ok(layout.scrollWidth <= WIDTH, `the page fits the window (${layout.scrollWidth} px wide)`);
  const png = PNG.sync.read(shot);
  assert.equal(png.width, WIDTH);
  const page_ = { x: 0, y: 0, w: png.width, h: png.height };
  assert.ok(share(png, page_, '#ffffff') < 0.97, 'the screenshot is not blank');
  return { layout, png };
}

describe(
  'HTML report in headless Chromium',
  { skip: chromium ? false : 'chromium is not installed (apt-get install chromium, or set CHROMIUM)' },
  () => {
    let browser: HeadlessChromium;
    before(() => {
      browser = HeadlessChromium.launch(chromium!);
    });
    after(async () => {
      await browser.close();
    });

    it('a 200-layer report: no errors, nothing fetched, hostile names as text, charts drawn in place', async () => {
      await withTempDir(async (dir) => {
        const doc = sampleDocument();
        const path = join(dir, 'sample.html');
        writeFileSync(path, renderHtmlReport(doc));
        const { layout, png } = await openAndShoot(browser, path, 'sample-report.png');
        assert.equal(layout.title, doc.title, 'no script changed the title');
        assert.ok(layout.text.includes(HOSTILE_NAME), 'the hostile node name shows as text');
        assert.deepEqual(
          layout.sections,
          doc.sections.map((s) => s.title),
        );
        // Bars: 40 charted, the 5 worst highlighted; each bar's middle pixel has its colour.
        assert.equal(layout.bars.length, 40);
        assert.deepEqual(
          layout.bars.map((b) => b.highlight),
          Array.from({ length: 40 }, (_, i) => i < 5),
        );
        for (const b of layout.bars) {
          assert.ok(b.w > 20, 'every charted SQNR is far from 0');
          assert.ok(isColor(png, b.x + b.w / 2, b.y + b.h / 2, b.highlight ? COLORS.highlight : COLORS.bar));
        }
        // Histograms: the bins in blue, the clipped tails in red over the shaded outside of the clip range.
        assert.equal(layout.histograms.length, 10);
        for (const h of layout.histograms) {
          assert.ok(share(png, h, COLORS.bar) > 0.1, 'histogram bins drawn');
          assert.ok(share(png, h, COLORS.highlight) > 0.005, 'clipped bins drawn');
          assert.ok(share(png, h, COLORS.clipped) > 0.05, 'outside of the clip range shaded');
        }
      });
    });

    it('the quantize --report of the bundled CNN renders without errors', async () => {
      await withTempDir(async (dir) => {
        // Verification adds summary rows only (covered by quantize-cli.test.ts) and costs seconds.
        const { path } = await quantizeWithReport(dir, ['--no-verify']);
        const { layout } = await openAndShoot(browser, path, 'quantize-report.png');
        // The quantize sections; analysis sections (per-layer error, histograms) may come between.
        assert.deepEqual(layout.sections.slice(0, 3), ['Model summary', 'Settings', 'Quantized operators']);
        assert.equal(layout.sections.at(-1), 'Notes');
        assert.match(layout.text, /Size\s+1\.23 MB\s+\d+ KB/);
      });
    });
  },
);
