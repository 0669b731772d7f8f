/**
 * The ReportDocument of a `quantize` run, built from its QuantizeReport: what was quantized, what
 * stayed float and why, what verification measured, and the speed decisions of speed-aware targets.
 */
import { describeBlockQuant } from '../algorithms/weight-quantizer.js';
import { formatBytes } from '../cli/format.js';
import type { NodeOutcome } from '../passes/pass-report.js';
import type { QuantizeReport } from '../pipeline/quantize.js';
import type { ReportDocument, ReportSection } from './document.js';

export interface QuantizeRun {
  input: string;
  output: string;
  /** File sizes, external data included. */
  bytes: { before: number; after: number };
  /** See reportSubtitle. */
  subtitle?: string;
}

export function quantizeReportDocument(r: QuantizeReport, run: QuantizeRun): ReportDocument {
  const sections: (ReportSection | undefined)[] = [
    summary(r, run),
    settings(r),
    quantizedOps(r),
    leftFloat(r),
    speed(r),
    speedChecks(r),
    easyQuant(r),
    {
      kind: 'notes',
      title: 'Notes',
      items: [
        ...r.notes,
        ...(r.calibrationTable ? [`TensorRT calibration table: ${r.calibrationTable.join(', ')}`] : []),
      ],
    },
  ];
  return {
    title: `${run.input} → ${run.output}`,
    subtitle: run.subtitle,
    sections: sections.filter((s) => s !== undefined),
  };
}

function summary(r: QuantizeReport, run: QuantizeRun): ReportSection {
  const { before, after } = run.bytes;
  const total = Object.values(r.quantized).reduce((n, c) => n + c, 0);
  const rows: Extract<ReportSection, { kind: 'summary' }>['rows'] = [
    {
      label: 'Size',
      before: formatBytes(before),
      after: formatBytes(after),
      note: `${(after / before).toFixed(2)}×`,
    },
    { label: 'Quantized nodes', before: '0', after: String(total), note: opCounts(r.quantized) },
    { label: 'Nodes left in float', after: String(floatNodes(r).length) },
  ];
  if (r.weightOnly) {
    const w = r.weightOnly;
    rows.push({
      label: 'Quantized weights',
      before: formatBytes(w.floatBytes),
      after: formatBytes(w.quantizedBytes),
      note: `${(w.quantizedBytes / w.floatBytes).toFixed(3)}×`,
    });
  }
  if (r.fp16) {
    const f = r.fp16;
    rows.push({
      label: 'Float16',
      after: `${f.nodes.filter((n) => n.done).length} of ${f.nodes.length} float nodes`,
      note: `${f.initializers} initializers, ${f.casts} casts added`,
    });
  }
  const v = r.verification;
  if (v) {
    const on = `${v.samples} samples, ${v.runtime}`;
    if (v.agreement !== undefined)
      rows.push({
        label: 'Top-1 agreement with FP32',
        after: `${(v.agreement * 100).toFixed(1)}%`,
        note: on,
      });
    if (v.sqnrDb !== undefined)
      rows.push({ label: 'Output SQNR', after: `${v.sqnrDb.toFixed(1)} dB`, note: on });
    if (v.speedup !== undefined)
      rows.push({
        label: 'Speed',
        before: '1×',
        after: `${v.speedup.toFixed(2)}×`,
        note: `batch ${v.batch}, ${v.runtime}`,
      });
    if (v.fused)
      rows.push({
        label: 'Integer kernels',
        after: `${v.fused.fused} of ${v.fused.total} quantized layers fused`,
        note: v.fused.unfused.join(', ') || undefined,
      });
    if (v.tensorrt)
      rows.push({
        label: 'TensorRT rules',
        after: v.tensorrt.length === 0 ? 'pass' : `${v.tensorrt.length} broken`,
      });
  }
  rows.push({ label: 'Time', after: `${r.seconds.toFixed(1)} s` });
  return { kind: 'summary', title: 'Model summary', rows };
}

function settings(r: QuantizeReport): ReportSection {
  const o = r.options;
  const rows: [string, string][] = [
    ['Mode', o.mode],
    ['Target', o.target],
  ];
  if (o.mode === 'static') {
    rows.push(
      ['Format', o.format],
      ['Activations', `${o.activationType}, ${o.symmetricActivations ? 'symmetric' : 'asymmetric'}`],
    );
  }
  if (o.mode === 'static' || o.mode === 'dynamic') {
    const how = [
      o.weightType,
      o.perChannel ? 'per channel' : 'per tensor',
      o.symmetricWeights ? 'symmetric' : 'asymmetric',
    ];
    if (o.reduceRange) how.push('reduced range (7 bits)');
    rows.push(['Weights', how.join(', ')]);
  }
  if (r.calibration) {
    const c = r.calibration;
    rows.push(['Calibration', `${c.method} on ${c.samples} samples, ${c.activations} activations`]);
  }
  if (o.weightOnly) {
    const w = o.weightOnly;
    rows.push(['Weights', `${w.bits}-bit, blocks of ${w.blockSize}, ${describeBlockQuant(w)}, ${w.format}`]);
  }
  const p = r.prepare;
  const prepared = [
    p.batchNormsFolded && `${p.batchNormsFolded} BatchNormalization folded`,
    p.constantsFolded && `${p.constantsFolded} constant nodes folded`,
    p.identitiesRemoved && `${p.identitiesRemoved} Identity/Dropout removed`,
  ].filter((s) => typeof s === 'string');
  if (prepared.length > 0) rows.push(['Prepared', prepared.join(', ')]);
  return { kind: 'table', title: 'Settings', columns: ['Setting', 'Value'], rows };
}

function quantizedOps(r: QuantizeReport): ReportSection | undefined {
  const counts = byCount(r.quantized);
  if (r.qoperator) {
    for (const [op, n] of Object.entries(r.qoperator.converted)) counts.push([`→ ${op}`, n]);
  }
  if (counts.length === 0) return undefined;
  return {
    kind: 'table',
    title: 'Quantized operators',
    columns: ['Op type', 'Nodes'],
    rows: counts,
    caption: r.qoperator ? 'Arrows: integer operators written in QOperator form.' : undefined,
  };
}

/** Nodes the passes left alone, with the reason (layers a speed-aware target timed slower included). */
function floatNodes(r: QuantizeReport): NodeOutcome[] {
  return [...r.nodes, ...(r.fp16?.nodes ?? [])].filter((n) => !n.done);
}

function leftFloat(r: QuantizeReport): ReportSection | undefined {
  const nodes = floatNodes(r);
  if (nodes.length === 0) return undefined;
  const subgraphs = nodes.some((n) => n.graph !== 'main');
  return {
    kind: 'table',
    title: 'Nodes left in float',
    columns: subgraphs ? ['Node', 'Op type', 'Graph', 'Why'] : ['Node', 'Op type', 'Why'],
    rows: nodes.map((n) => (subgraphs ? [n.node, n.opType, n.graph, n.note] : [n.node, n.opType, n.note])),
  };
}

function speed(r: QuantizeReport): ReportSection | undefined {
  if (!r.speed || r.speed.length === 0) return undefined;
  return {
    kind: 'bars',
    title: 'INT8 speed per layer',
    unit: '× float',
    lowerIsWorse: true,
    items: r.speed.map((d) => ({
      label: d.node,
      value: d.speedup,
      highlight: d.keptFloat,
      note: d.keptFloat ? 'kept float' : undefined,
    })),
    caption: `Each layer timed alone on ${r.options.target}, INT8 against float; red: kept float.`,
  };
}

function speedChecks(r: QuantizeReport): ReportSection | undefined {
  if (!r.speedChecks || r.speedChecks.length === 0) return undefined;
  return {
    kind: 'table',
    title: 'Whole-model speed checks',
    columns: ['Layers kept float', 'INT8 speed-up over FP32'],
    rows: r.speedChecks.map((c) => [c.keptFloat, Number(c.speedup.toFixed(3))]),
  };
}

function easyQuant(r: QuantizeReport): ReportSection | undefined {
  if (!r.easyquant || r.easyquant.length === 0) return undefined;
  return {
    kind: 'table',
    title: 'EasyQuant scale search',
    columns: ['Layer', 'Output cosine before', 'After'],
    rows: r.easyquant.map((e) => [e.node, Number(e.before.toFixed(5)), Number(e.after.toFixed(5))]),
  };
}

function opCounts(counts: Record<string, number>): string | undefined {
  const parts = byCount(counts).map(([op, n]) => `${op} ${n}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function byCount(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
