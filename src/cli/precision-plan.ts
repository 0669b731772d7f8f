/** Terminal rendering of a sensitivity ranking and of a mixed-precision plan. */
import { fixed } from '../analysis/report-format.js';
import type { MixedPrecisionReport } from '../pipeline/mixed-precision.js';
import { table } from './format.js';

export function renderSensitivity(mp: MixedPrecisionReport, top = Infinity): string {
  const labelled = mp.data.labelled;
  const kl = mp.sensitivity.some((s) => s.metrics.klDivergence !== undefined);
  const header = [
    'rank',
    'layer',
    'weights',
    ...(labelled ? ['acc. drop pt'] : []),
    ...(kl ? ['KL'] : []),
    'output SQNR dB',
  ];
  const rows = mp.sensitivity
    .slice(0, top)
    .map((s, i) => [
      String(i + 1),
      s.name,
      String(s.weights),
      ...(labelled ? [fixed(s.accuracyDrop ?? 0, 2)] : []),
      ...(kl ? [s.metrics.klDivergence!.toExponential(2)] : []),
      fixed(s.metrics.sqnrDb, 1),
    ]);
  const on = `${mp.data.rankedOn} ${mp.data.source} samples`;
  const accuracy =
    mp.referenceAccuracy !== undefined
      ? ` (FP32 accuracy ${(mp.referenceAccuracy * 100).toFixed(2)}% on all ${mp.data.samples})`
      : '';
  return [
    `sensitivity: each layer quantized alone, on ${on}${accuracy}; most sensitive first`,
    table(rows, header),
  ].join('\n');
}

export function renderPlan(mp: MixedPrecisionReport): string {
  const lines = [
    'mixed-precision plan:',
    table(
      mp.plan.map((l) => [l.layer, l.opType, String(l.weights), l.precision, l.reason]),
      ['layer', 'op', 'weights', 'precision', 'why'],
    ),
    `weights average ${mp.averageWeightBits.toFixed(2)} bits over the quantized layers; ${mp.evaluations} candidate models evaluated`,
  ];
  for (const s of mp.search ?? []) {
    lines.push(
      `  ${s.keptFloat} layer(s) float: accuracy ${(s.accuracy * 100).toFixed(2)}%, drop ${s.drop.toFixed(2)} pt`,
    );
  }
  if (mp.accuracy !== undefined && mp.accuracyDrop !== undefined) {
    lines.push(
      `result on the evaluation data: ${(mp.accuracy * 100).toFixed(2)}% (${mp.accuracyDrop.toFixed(2)} pt below FP32)`,
    );
  }
  return lines.join('\n');
}
