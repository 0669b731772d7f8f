import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { medianRatio, summarizeDurations } from '../../src/evaluate/percentile.js';
import { cpuFeatures, measureLatency } from '../../src/runtime/latency.js';

/**
 * Runners whose runs take scripted times on fake clocks, logging the order they ran in. A run of
 * `t` ms advances the wall clock by t and the CPU clock by t ÷ `busy` (the machine's other load).
 */
function scripted(durations: Record<string, number[]>, busy = 1) {
  let wall = 0;
  let cpu = 0;
  const order: string[] = [];
  const runners = Object.entries(durations).map(([name, times]) => {
    let i = 0;
    return {
      async run() {
        order.push(name);
        const t = times[i++ % times.length];
        wall += t;
        cpu += t / busy;
      },
    };
  });
  return { runners, order, clocks: { wall: () => wall, cpu: () => cpu } };
}

describe('measureLatency', () => {
  it('interleaves the models, alternating which goes first, after untimed warm-up runs', async () => {
    const { runners, order, clocks } = scripted({ A: [1], B: [2] });
    await measureLatency(runners, {}, { runs: 3, warmup: 2, clocks });
    assert.deepEqual(order.join(''), 'ABBA' + 'ABBAAB');
  });

  it('returns the wall and CPU time of the timed runs only, round by round', async () => {
    // Warm-up runs take 1000 ms; the timed ones 1..10 (A) and 10× that (B).
    const a = [1000, 1000, 3, 1, 2, 10, 9, 8, 7, 6, 5, 4];
    const { runners, clocks } = scripted({ A: a, B: a.map((t) => t * 10) }, 4);
    const [ta, tb] = await measureLatency(runners, {}, { runs: 10, warmup: 2, clocks });
    assert.deepEqual([...ta.wall], a.slice(2));
    assert.deepEqual(
      [...ta.cpu],
      a.slice(2).map((t) => t / 4),
    );
    const sa = summarizeDurations(ta.wall);
    assert.equal(sa.runs, 10);
    assert.equal(sa.median, 5.5);
    assert.ok(Math.abs(sa.p90 - 9.1) < 1e-9);
    assert.equal(summarizeDurations(tb.wall).median, 55);
    assert.equal(medianRatio(tb.wall, ta.wall), 10);
  });

  it('pairs runs: load that moves one model’s median across modes leaves the paired ratio at 1', () => {
    // Runs take 1 ms alone and 3 ms when another process shares the core. A was alone in rounds
    // 0–5, B only in rounds 0–3: the same model, but medians of 1 and 3 ms. Paired round by round,
    // eight of ten rounds say 1×.
    const a = Float64Array.from([1, 1, 1, 1, 1, 1, 3, 3, 3, 3]);
    const b = Float64Array.from([1, 1, 1, 1, 3, 3, 3, 3, 3, 3]);
    assert.equal(summarizeDurations(b).median / summarizeDurations(a).median, 3);
    assert.equal(medianRatio(b, a), 1);
  });

  it('picks the number of runs from the warm-up time, within bounds', async () => {
    const runsFor = async (ms: number) => {
      const { runners, clocks } = scripted({ A: [ms], B: [ms] });
      return (await measureLatency(runners, {}, { clocks }))[0].wall.length;
    };
    assert.equal(await runsFor(25), 40); // 2 s budget ÷ 50 ms per round
    assert.equal(await runsFor(5000), 10);
    assert.equal(await runsFor(0.001), 200);
  });

  it('reports progress per timed round', async () => {
    const { runners, clocks } = scripted({ A: [1] });
    const seen: string[] = [];
    await measureLatency(
      runners,
      {},
      {
        runs: 2,
        clocks,
        onProgress: (e) => seen.push(`${e.stage} ${e.done}/${e.total}`),
      },
    );
    assert.deepEqual(seen, ['latency 1/2', 'latency 2/2']);
  });

  it('the default CPU clock counts the work a run does, not the time it waits', async () => {
    const [sleep] = await measureLatency(
      [{ run: () => new Promise((resolve) => setTimeout(resolve, 20)) }],
      {},
      { runs: 3, warmup: 1 },
    );
    const [spin] = await measureLatency(
      [
        {
          run: async () => {
            const end = performance.now() + 20;
            while (performance.now() < end);
          },
        },
      ],
      {},
      { runs: 3, warmup: 1 },
    );
    // Relative, never absolute: sleeping uses a small part of its wall time, spinning most of it.
    const share = (t: { wall: Float64Array; cpu: Float64Array }) =>
      summarizeDurations(t.cpu).median / summarizeDurations(t.wall).median;
    assert.ok(share(sleep) < share(spin), `${share(sleep)} vs ${share(spin)}`);
    assert.ok(share(sleep) < 0.5, `${share(sleep)}`);
  });
});

describe('cpuFeatures', () => {
  it('reads the model name and the int8-relevant flags of an x86 CPU', () => {
    const text = [
      'processor\t: 0',
      'model name\t: AMD EPYC 9R14 96-Core Processor',
      'flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16',
      '',
      'processor\t: 1',
    ].join('\n');
    const c = cpuFeatures(text);
    assert.equal(c.model, 'AMD EPYC 9R14 96-Core Processor');
    assert.deepEqual(c.flags, ['avx2', 'avx512f', 'avx512_vnni']);
    assert.ok(c.cores >= 1);
  });

  it('reads arm64 Features; no /proc/cpuinfo gives no flags', () => {
    assert.deepEqual(cpuFeatures('Features\t: fp asimd asimddp i8mm sve\n').flags, ['asimddp', 'i8mm']);
    const none = cpuFeatures('');
    assert.deepEqual(none.flags, []);
    assert.ok(none.model.length > 0);
  });
});
