/**
 * Report sections of a sensitivity ranking and of a mixed-precision plan: the whole document of
 * `quantkit sensitivity`, and what a `quantize --report` adds when mixed precision ran.
 */
import type { MixedPrecisionReport } from '../pipeline/mixed-precision.js';
import type { ResolvedOptions } from '../pipeline/resolve.js';
import type { ReportDocument, ReportSection } from '../report/document.js';
import { fixed, percent } from './report-format.js';

export interface SensitivityRun {
  model: string;
  options: ResolvedOptions;
  subtitle?: string;
}

export function sensitivityReportDocument(mp: MixedPrecisionReport, run: SensitivityRun): ReportDocument {
  const o = run.options;
  const how = [
    `${o.activationType} activations`,
    `${o.weightType} weights ${o.perChannel ? 'per channel' : 'per tensor'}${o.reduceRange ? ' (7-bit)' : ''}`,
    `${o.calibMethod} calibration`,
  ].join(', ');
  return {
    title: `Layer sensitivity of ${run.model}`,
    subtitle: run.subtitle,
    sections: [
      {
        kind: 'summary',
        title: 'Summary',
        rows: [
          { label: 'Quantization', after: how, note: `target ${o.target}` },
          { label: 'Compared on', after: `${mp.data.rankedOn} ${mp.data.source} samples` },
          ...(mp.referenceAccuracy !== undefined
            ? [
                {
                  label: 'FP32 accuracy',
                  after: percent(mp.referenceAccuracy),
                  note: `on all ${mp.data.samples} samples`,
                },
              ]
            : []),
          { label: 'Most sensitive', after: mp.sensitivity[0].name },
        ],
      },
      ...sensitivitySections(mp),
    ],
  };
}

/** The ranking as a chart and a table. */
export function sensitivitySections(mp: MixedPrecisionReport): ReportSection[] {
  const byAccuracy = mp.data.labelled;
  const kl = mp.sensitivity.every((s) => s.metrics.klDivergence !== undefined);
  const value = (s: MixedPrecisionReport['sensitivity'][number]) =>
    byAccuracy ? (s.accuracyDrop ?? 0) : kl ? s.metrics.klDivergence! : s.metrics.sqnrDb;
  return [
    {
      kind: 'bars',
      title: 'Sensitivity: each layer quantized alone',
      unit: byAccuracy ? 'points lost' : kl ? 'KL (nats)' : 'output SQNR dB',
      lowerIsWorse: !byAccuracy && !kl,
      items: mp.sensitivity.map((s, i) => ({
        label: s.name,
        value: value(s),
        highlight: i === 0,
        note: `output SQNR ${fixed(s.metrics.sqnrDb, 1)} dB`,
      })),
      caption: `Most sensitive first; everything else float, the same calibration for every layer (${mp.data.rankedOn} samples).`,
    },
    {
      kind: 'table',
      title: 'Sensitivity ranking',
      columns: [
        'Rank',
        'Layer',
        'Ops',
        'Weights',
        ...(byAccuracy ? ['Accuracy drop (pt)'] : []),
        'Agreement',
        'KL divergence',
        'Output SQNR (dB)',
      ],
      rows: mp.sensitivity.map((s, i) => [
        i + 1,
        s.name,
        s.opTypes.join(', '),
        s.weights,
        ...(byAccuracy ? [fixed(s.accuracyDrop ?? 0, 2)] : []),
        s.metrics.agreement === undefined ? '' : percent(s.metrics.agreement),
        s.metrics.klDivergence === undefined ? '' : s.metrics.klDivergence.toExponential(2),
        fixed(s.metrics.sqnrDb, 1),
      ]),
      highlightRows: [0],
    },
  ];
}

/** The chosen per-layer precision, the accuracy search and the 4-bit costs. */
export function mixedPrecisionSections(mp: MixedPrecisionReport): ReportSection[] {
  const sections: ReportSection[] = [
    {
      kind: 'table',
      title: 'Mixed-precision plan',
      columns: ['Layer', 'Op', 'Weights', 'Precision', 'Why'],
      rows: mp.plan.map((l) => [l.layer, l.opType, l.weights, l.precision, l.reason]),
      highlightRows: mp.plan.flatMap((l, i) => (l.reason === 'quantized' ? [] : [i])),
      caption:
        `Weights average ${mp.averageWeightBits.toFixed(2)} bits over the quantized layers; ` +
        `${mp.evaluations} candidate models evaluated.` +
        (mp.accuracyDrop !== undefined
          ? ` Result: ${percent(mp.accuracy!)} on the evaluation data, ${mp.accuracyDrop.toFixed(2)} points below FP32.`
          : ''),
    },
  ];
  if (mp.search) {
    sections.push({
      kind: 'table',
      title: 'Accuracy search',
      columns: ['Layers kept float', 'Accuracy', 'Drop (pt)'],
      rows: mp.search.map((s) => [s.keptFloat, percent(s.accuracy), fixed(s.drop, 2)]),
      caption: `The most sensitive layers back to float, on all ${mp.data.samples} evaluation samples; counts tried by doubling, then bisection.`,
    });
  }
  if (mp.fourBit) {
    sections.push({
      kind: 'table',
      title: '4-bit weight costs',
      columns: ['Layer', 'Weights', 'Error added at 4 bits', 'Per bit saved', '4-bit'],
      rows: mp.fourBit.map((c) => [
        c.name,
        c.weights,
        c.increase.toExponential(2),
        c.perBit.toExponential(2),
        c.fourBit ? 'yes' : 'no',
      ]),
      highlightRows: mp.fourBit.flatMap((c, i) => (c.fourBit ? [i] : [])),
    });
  }
  return [...sections, ...sensitivitySections(mp)];
}
