/**
 * Latency of ONNX Runtime sessions, measured so that two models can be compared on a small machine
 * (../shared/reference/measured-here.md). The sessions run interleaved in one process, so a change
 * in machine state (clock speed, a GC pause) lands on both instead of on whichever ran at the time,
 * and which model goes first alternates every round. Each run is timed twice: wall-clock time (the
 * latency a user sees) and the process's CPU time. Sessions to be compared should be created with
 * thread-pool spinning off, or a spinning idle pool of one steals the cores the other is timed on.
 *
 * Why CPU time: on a shared 2-core machine other processes take the cores at random, wall times turn
 * bimodal (a run has a core or waits for one) and each model's wall median lands in either mode — a
 * model against itself measured anywhere from 0.6× to 1.7× at load 13. CPU time is what the run
 * itself consumed; with one intra-op thread the run is one thread's work, so CPU time is its latency
 * minus the waiting, and the same comparison stays within ±2%.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import type { ProgressCallback } from '../progress.js';

/** Anything that runs one batch; a `Runner` is one. */
export interface Timeable<F> {
  run(feeds: F): Promise<unknown>;
}

export interface LatencyOptions {
  /** Timed runs per model; by default as many as fit in about 2 s, at least 10 and at most 200. */
  runs?: number;
  /** Untimed runs per model before timing (first runs allocate and page in). Default 3, at least 1. */
  warmup?: number;
  onProgress?: ProgressCallback;
  /** Millisecond clocks, wall and process CPU; tests substitute their own. */
  clocks?: { wall: () => number; cpu: () => number };
}

/** One runner's timed runs in ms; entry r of every runner's arrays comes from the same round. */
export interface RunTimes {
  wall: Float64Array;
  cpu: Float64Array;
}

const BUDGET_MS = 2000;
const MIN_RUNS = 10;
const MAX_RUNS = 200;

const SYSTEM_CLOCKS = {
  wall: () => performance.now(),
  cpu: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
};

/** Times every runner on the same feeds; one RunTimes per runner, in order. */
export async function measureLatency<F>(
  runners: readonly Timeable<F>[],
  feeds: F,
  opts: LatencyOptions = {},
): Promise<RunTimes[]> {
  const { wall, cpu } = opts.clocks ?? SYSTEM_CLOCKS;
  const round = async (r: number, times?: RunTimes[]): Promise<number> => {
    let total = 0;
    for (let k = 0; k < runners.length; k++) {
      const i = r % 2 === 0 ? k : runners.length - 1 - k;
      const cpu0 = cpu();
      const wall0 = wall();
      await runners[i].run(feeds);
      const ms = wall() - wall0;
      if (times) {
        times[i].wall[r] = ms;
        times[i].cpu[r] = cpu() - cpu0;
      }
      total += ms;
    }
    return total;
  };
  let roundMs = 0;
  const warmup = Math.max(1, opts.warmup ?? 3);
  for (let r = 0; r < warmup; r++) roundMs = await round(r);
  const runs = opts.runs ?? Math.min(MAX_RUNS, Math.max(MIN_RUNS, Math.round(BUDGET_MS / roundMs)));
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`runs must be a positive integer, got ${runs}`);
  const times = runners.map(() => ({ wall: new Float64Array(runs), cpu: new Float64Array(runs) }));
  for (let r = 0; r < runs; r++) {
    await round(r, times);
    opts.onProgress?.({ stage: 'latency', done: r + 1, total: runs });
  }
  return times;
}

/** The CPU, with the instruction-set features that decide which integer kernels ONNX Runtime uses. */
export interface CpuFeatures {
  model: string;
  /** Node's name for the architecture: 'x64', 'arm64', ... */
  arch: string;
  cores: number;
  /** Which of FEATURES the CPU has, as /proc/cpuinfo names them; empty where that file does not exist. */
  flags: string[];
}

/**
 * x86: AVX2 and the 8-bit dot-product extensions (VNNI in AVX-512 or AVX, AMX); arm64: the dot
 * product and int8 matrix multiply instructions.
 */
export const FEATURES = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'asimddp', 'i8mm'];

/** Reads /proc/cpuinfo unless given its text (tests give it). */
export function cpuFeatures(cpuinfo: string = readCpuinfo()): CpuFeatures {
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() || cpus()[0]?.model.trim() || 'unknown';
  const present = new Set((/^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/));
  return {
    model,
    arch: process.arch,
    cores: availableParallelism(),
    flags: FEATURES.filter((f) => present.has(f)),
  };
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}
