/** The ReportDocument of `quantkit debug`: where a quantized model's error comes from, worst first. */
import type { ReportDocument, ReportSection } from '../report/document.js';
import type { DebugResult, TensorError } from './debug.js';
import { decibels, fixed, percent } from './report-format.js';

export interface DebugRun {
  float: string;
  quantized: string;
  subtitle?: string;
}

/** Bars and histograms for at most this many tensors: a chart of hundreds of bars reads as noise. */
const CHART_ROWS = 40;
/** Worst tensors highlighted. */
const WORST = 3;

export function debugReportDocument(r: DebugResult, run: DebugRun): ReportDocument {
  return {
    title: `${run.quantized} against ${run.float}`,
    subtitle: run.subtitle,
    sections: [...debugSections(r), debugNotes(r)],
  };
}

/** The analysis sections without the notes (a quantize report embeds them). */
export function debugSections(r: DebugResult): ReportSection[] {
  const sections: ReportSection[] = [summary(r), localBars(r), tensorTable(r)];
  const histograms = r.tensors.filter((t) => t.histogram);
  if (histograms.length > 0) {
    sections.push({
      kind: 'histograms',
      title: 'Float values of the worst layers, with the quantized range',
      items: histograms.map((t) => ({
        label: `${t.layer} (${t.tensor})`,
        counts: t.histogram!.counts,
        min: t.histogram!.min,
        max: t.histogram!.max,
        clip: t.clip,
        caption: `local SQNR ${decibels(t.local.sqnrDb)}; ${percent(t.clipped, 3)} of values outside the range`,
      })),
      caption: `Values of the float model on ${r.samples} samples; the lines mark what the integers can represent.`,
    });
  }
  if (r.weights.length > 0) sections.push(weightTable(r));
  return sections;
}

function summary(r: DebugResult): ReportSection {
  const worst = r.tensors[0];
  const rows: Extract<ReportSection, { kind: 'summary' }>['rows'] = [
    { label: 'Samples compared', after: String(r.samples) },
    { label: 'Quantized tensors matched', after: String(r.tensors.length) },
    {
      label: 'Worst layer (error added alone)',
      after: worst.layer,
      note: `local SQNR ${decibels(worst.local.sqnrDb)}, accumulated ${decibels(worst.accumulated.sqnrDb)}`,
    },
  ];
  for (const o of r.outputs) {
    rows.push({
      label: `Output ${o.name}`,
      after: decibels(o.sqnrDb),
      note: `cosine ${fixed(o.cosine, 5)}, relative MSE ${o.relativeMse.toExponential(2)}`,
    });
  }
  if (r.weights.length > 0) {
    const w = r.weights[0];
    rows.push({
      label: 'Worst weight',
      after: w.weight,
      note: `SQNR ${decibels(w.sqnrDb)} (${w.type}, ${w.granularity})`,
    });
  }
  return { kind: 'summary', title: 'Per-layer error', rows };
}

function localBars(r: DebugResult): ReportSection {
  const rows = r.tensors.slice(0, CHART_ROWS);
  return {
    kind: 'bars',
    title: 'Error each layer adds alone',
    unit: 'dB',
    lowerIsWorse: true,
    items: rows.map((t, i) => ({
      label: t.layer,
      value: finiteOr(t.local.sqnrDb, 200),
      highlight: i < WORST,
      note: `accumulated ${decibels(t.accumulated.sqnrDb)}`,
    })),
    caption:
      'SQNR of each quantized tensor when its layer runs on the float model’s inputs: low means the layer ' +
      'itself loses precision. Worst first.',
  };
}

function tensorTable(r: DebugResult): ReportSection {
  return {
    kind: 'table',
    title: 'Quantized tensors, worst first',
    columns: [
      'Layer',
      'Quantized by',
      'Local SQNR (dB)',
      'Accumulated SQNR (dB)',
      'From earlier layers',
      'Cosine',
      'Relative MSE',
      'Outside range',
    ],
    rows: r.tensors.map((t: TensorError) => [
      t.layer,
      t.quantizedBy,
      fixed(t.local.sqnrDb, 1),
      fixed(t.accumulated.sqnrDb, 1),
      percent(t.inherited, 0),
      fixed(t.accumulated.cosine, 5),
      t.accumulated.relativeMse.toExponential(2),
      percent(t.clipped, 3),
    ]),
    highlightRows: [...Array(Math.min(WORST, r.tensors.length)).keys()],
    caption:
      'Local: the layer alone, on float inputs. Accumulated: the quantized model as it runs. ' +
      '"From earlier layers": the share of the accumulated squared error that earlier layers passed on.',
  };
}

function weightTable(r: DebugResult): ReportSection {
  return {
    kind: 'table',
    title: 'Weight quantization, worst first',
    columns: ['Weight', 'Layer', 'Type', 'Granularity', 'SQNR (dB)', 'Cosine'],
    rows: r.weights.map((w) => [
      w.weight,
      w.node,
      w.type,
      w.granularity,
      fixed(w.sqnrDb, 1),
      fixed(w.cosine, 5),
    ]),
    highlightRows: [0],
  };
}

function debugNotes(r: DebugResult): ReportSection {
  const items = [
    'SQNR = 10·log10(Σx² / Σ(x − x̂)²) over every value of every sample, x the float model’s value.',
  ];
  if (r.unmatched > 0) {
    items.push(
      `${r.unmatched} QuantizeLinear outputs have no float tensor of the same name and are not compared.`,
    );
  }
  return { kind: 'notes', title: 'Notes', items };
}

function finiteOr(x: number, cap: number): number {
  return Number.isFinite(x) ? x : Number.isNaN(x) ? 0 : cap;
}
