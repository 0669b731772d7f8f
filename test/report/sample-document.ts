/**
 * A report shaped like a real `debug` + `sensitivity` run on a 200-layer transformer: per-layer SQNR,
 * activation histograms with clipping ranges, sensitivity ranking, mixed-precision plan. One node name
 * is hostile markup, as an untrusted model file may carry.
 */
import type { ReportDocument } from '../../src/report/document.js';

export const HOSTILE_NAME = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';
export const LAYERS = 200;
export const HISTOGRAMS = 10;

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function layerName(i: number): string {
  if (i === 17) return HOSTILE_NAME;
  const proj = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'fc1', 'fc2', 'gate_proj', 'down_proj'][i % 8];
  return `/model/decoder/layers.${Math.floor(i / 8)}/${i % 8 < 4 ? 'self_attn' : 'mlp'}/${proj}/MatMul`;
}

/**
 * Counts of `bins` bins over [min, max] of Laplace-distributed samples (ReLU-like when `relu`), with a
 * clipping range at 40% of the extremes and the share of samples it clips.
 */
function laplaceHistogram(rand: () => number, bins: number, scale: number, relu: boolean) {
  const samples = 20_000;
  const values = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const u = rand() - 0.5;
    const v = -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    values[i] = relu ? Math.max(0, v) : v;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(((v - min) / (max - min)) * bins))]++;
  const clip: [number, number] = [min * 0.4, max * 0.4];
  const clipped = values.filter((v) => v < clip[0] || v > clip[1]).length / samples;
  return { counts, min, max, clip, clipped };
}

export function sampleDocument(): ReportDocument {
  const rand = random(7);
  const sqnr = Array.from({ length: LAYERS }, (_, i) => ({
    label: layerName(i),
    value: i === 61 ? 4.2 : i === 17 ? 9.8 : 18 + 22 * rand(),
  }));
  const worst = [...sqnr].sort((a, b) => a.value - b.value).slice(0, 5);
  const histograms = worst.concat(sqnr.slice(0, HISTOGRAMS - worst.length)).map((layer, k) => {
    const { clipped, ...h } = laplaceHistogram(rand, 2048, 0.5 + k * 0.3, k % 3 === 1);
    return {
      label: layer.label,
      ...h,
      caption: `MSE clipping · ${(clipped * 100).toFixed(2)}% of values clipped`,
    };
  });
  const ranking = [...sqnr]
    .map((l) => ({ label: l.label, drop: Math.max(0, (40 - l.value) / 60) }))
    .sort((a, b) => b.drop - a.drop);
  return {
    title: 'decoder-200.onnx → decoder-200.int8.onnx',
    subtitle: 'quantkit 0.1.0 · 2026-11-23 14:02',
    sections: [
      {
        kind: 'summary',
        title: 'Model summary',
        rows: [
          { label: 'Size', before: '412 MB', after: '109 MB', note: '0.26×' },
          { label: 'Quantized nodes', before: '0', after: '196 (MatMul 192, Gather 4)' },
          {
            label: 'Top-1 accuracy',
            before: '91.20%',
            after: '90.85%',
            note: '−0.35 points on 1000 samples',
          },
          { label: 'Latency', before: '38.1 ms', after: '17.9 ms', note: '2.13× at batch 1' },
        ],
      },
      {
        kind: 'bars',
        title: 'Per-layer error',
        unit: 'dB',
        lowerIsWorse: true,
        items: sqnr.map((l) => ({
          ...l,
          highlight: worst.includes(l),
          note: worst.includes(l) ? 'worst 5' : undefined,
        })),
        caption: 'SQNR of each quantized activation against its float value; lower is worse.',
      },
      {
        kind: 'histograms',
        title: 'Activation histograms of the worst layers',
        items: histograms,
        caption: 'Dashed lines: the calibrated clipping range; values outside it (red) saturate.',
      },
      {
        kind: 'table',
        title: 'Sensitivity ranking',
        columns: ['Rank', 'Layer', 'Accuracy drop (points)'],
        rows: ranking.map((r, i) => [i + 1, r.label, Number(r.drop.toFixed(3))]),
        highlightRows: [0, 1, 2],
        caption: 'Each layer quantized alone, the rest in float.',
      },
      {
        kind: 'table',
        title: 'Mixed-precision plan',
        columns: ['Layer', 'Weights', 'Activations', 'Why'],
        rows: ranking
          .slice(0, 8)
          .map((r, i) => [
            r.label,
            i < 3 ? 'float32' : 'int8',
            i < 3 ? 'float32' : 'uint8',
            i < 3 ? 'kept float: most sensitive' : 'int8',
          ]),
        highlightRows: [0, 1, 2],
      },
      {
        kind: 'notes',
        title: 'Notes',
        items: [
          `${HOSTILE_NAME} stays in float: not a supported op`,
          'calibration: percentile 99.99 on 512 samples',
        ],
      },
    ],
  };
}
