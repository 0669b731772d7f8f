import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QuantizeReport } from '../../src/pipeline/quantize.js';
import { resolveOptions } from '../../src/pipeline/resolve.js';
import type { ReportSection } from '../../src/report/document.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { quantizeReportDocument } from '../../src/report/quantize-report.js';
import { reportSubtitle } from '../../src/report/subtitle.js';

const HOST = { arch: 'x64', flags: ['avx2'] };

/** What quantize() reports for a speed-aware target that kept one slow layer float. */
function wasmReport(): QuantizeReport {
  const options = resolveOptions({ target: 'ort-wasm' }, { hasCalibration: true, host: HOST });
  const layer = (node: string, done: boolean, note: string) => ({
    node,
    opType: 'Conv',
    graph: 'main',
    done,
    note,
  });
  return {
    options,
    prepare: {
      alreadyPrepared: false,
      constantsToInitializers: 0,
      identitiesRemoved: 0,
      constantsFolded: 0,
      batchNormsFolded: 2,
      deadNodesRemoved: 0,
      initializersRemoved: 8,
      notes: [],
    },
    nodes: [
      layer('/stem/Conv', false, 'on ort-wasm, INT8 ran 0.74× its float speed'),
      layer('/block/Conv', true, 'quantized'),
      {
        node: '/head/Softmax',
        opType: 'Softmax',
        graph: 'If_0.then_branch',
        done: false,
        note: 'not planned',
      },
    ],
    quantized: { Conv: 1, Relu: 1 },
    calibration: { samples: 64, method: 'minmax', activations: 3, warnings: [] },
    verification: {
      runtime: 'onnxruntime-web (WebAssembly)',
      samples: 64,
      agreement: 0.984375,
      sqnrDb: 36.29,
      speedup: 2.004,
      batch: 32,
      warnings: [],
    },
    speed: [
      { node: '/stem/Conv', opType: 'Conv', speedup: 0.74, keptFloat: true },
      { node: '/block/Conv', opType: 'Conv', speedup: 1.96, keptFloat: false },
    ],
    speedChecks: [
      { keptFloat: 0, speedup: 0.97 },
      { keptFloat: 1, speedup: 2.004 },
    ],
    notes: ['/stem/Conv (Conv) stays in float: on ort-wasm, INT8 ran 0.74× its float speed'],
    seconds: 19.62,
  };
}

function section<K extends ReportSection['kind']>(sections: ReportSection[], title: string, kind: K) {
  const s = sections.find((x) => x.title === title);
  assert.ok(s, `section ${title}`);
  assert.equal(s.kind, kind);
  return s as Extract<ReportSection, { kind: K }>;
}

describe('quantizeReportDocument', () => {
  const run = { input: 'cnn.onnx', output: 'cnn.int8.onnx', bytes: { before: 1_234_114, after: 327_175 } };

  it('summarizes sizes, counts and verification before/after', () => {
    const doc = quantizeReportDocument(wasmReport(), run);
    assert.equal(doc.title, 'cnn.onnx → cnn.int8.onnx');
    const rows = section(doc.sections, 'Model summary', 'summary').rows;
    const row = (label: string) => rows.find((r) => r.label === label);
    assert.deepEqual(row('Size'), { label: 'Size', before: '1.23 MB', after: '327 KB', note: '0.27×' });
    assert.deepEqual(row('Quantized nodes'), {
      label: 'Quantized nodes',
      before: '0',
      after: '2',
      note: 'Conv 1, Relu 1',
    });
    assert.equal(row('Nodes left in float')?.after, '2');
    assert.equal(row('Top-1 agreement with FP32')?.after, '98.4%');
    assert.equal(row('Output SQNR')?.after, '36.3 dB');
    assert.equal(row('Speed')?.after, '2.00×');
    assert.equal(row('Time')?.after, '19.6 s');
  });

  it('lists the float nodes with their reasons, and charts the speed decisions slowest first', () => {
    const doc = quantizeReportDocument(wasmReport(), run);
    const float = section(doc.sections, 'Nodes left in float', 'table');
    assert.deepEqual(
      float.columns,
      ['Node', 'Op type', 'Graph', 'Why'],
      'a subgraph node adds the Graph column',
    );
    assert.deepEqual(float.rows[0], [
      '/stem/Conv',
      'Conv',
      'main',
      'on ort-wasm, INT8 ran 0.74× its float speed',
    ]);
    const speed = section(doc.sections, 'INT8 speed per layer', 'bars');
    assert.equal(speed.lowerIsWorse, true);
    assert.deepEqual(
      speed.items.map((i) => [i.label, i.value, i.highlight === true]),
      [
        ['/stem/Conv', 0.74, true],
        ['/block/Conv', 1.96, false],
      ],
    );
    assert.deepEqual(section(doc.sections, 'Whole-model speed checks', 'table').rows, [
      [0, 0.97],
      [1, 2.004],
    ]);
    assert.deepEqual(section(doc.sections, 'Notes', 'notes').items, wasmReport().notes);
    const html = renderHtmlReport(doc);
    assert.match(html, /<rect [^>]*fill="#d62728" class="hl"\/>/, 'the kept-float layer is highlighted');
  });

  it('leaves out sections with nothing to show', () => {
    const r = { ...wasmReport(), nodes: [], speed: undefined, speedChecks: undefined, quantized: {} };
    const titles = quantizeReportDocument(r, run).sections.map((s) => s.title);
    assert.deepEqual(titles, ['Model summary', 'Settings', 'Notes']);
  });

  it('subtitle names the version and the UTC time', () => {
    assert.equal(
      reportSubtitle('0.1.0', new Date(Date.UTC(2026, 10, 23, 14, 2, 59))),
      'quantkit 0.1.0 · 2026-11-23 14:02 UTC',
    );
  });
});
