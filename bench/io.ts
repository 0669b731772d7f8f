/**
 * Load + save of a synthetic model with ~500 MB of weights, against plain read + write of the same
 * file. Targets (issue 2): time ratio ≤ 1.5, peak RSS ÷ model bytes ≤ 1.3.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './env.js';

const RUNS = 3;

/**
 * Every step runs in its own process: a child's peak RSS starts at its parent's (fork copies the
 * address space before exec), so the parent must stay small for the figures to mean anything.
 */
function measure(
  mode: 'make' | 'raw' | 'quantkit',
  input: string,
  output = '',
): { ms: number; maxRssBytes: number } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'io-worker.ts'), mode, input, output],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`io-worker ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export function benchIo(): void {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-bench-'));
  try {
    const input = join(dir, 'model.onnx');
    measure('make', input);
    const bytes = statSync(input).size;
    const raw: { ms: number; maxRssBytes: number }[] = [];
    const qk: { ms: number; maxRssBytes: number }[] = [];
    measure('raw', input, join(dir, 'warm.onnx')); // page cache warm-up
    for (let i = 0; i < RUNS; i++) {
      raw.push(measure('raw', input, join(dir, 'raw.onnx')));
      qk.push(measure('quantkit', input, join(dir, 'out.onnx')));
    }
    const rawMs = median(raw.map((r) => r.ms));
    const qkMs = median(qk.map((r) => r.ms));
    const rss = Math.max(...qk.map((r) => r.maxRssBytes));
    const rawRss = Math.max(...raw.map((r) => r.maxRssBytes));
    console.log(
      `\n## model I/O: load + save of a ${(bytes / 1e6).toFixed(0)} MB model (a chain of MatMuls), median of ${RUNS}`,
    );
    console.log(`raw read+write+fsync: ${rawMs.toFixed(0)} ms, peak RSS ${(rawRss / 1e6).toFixed(0)} MB`);
    console.log(`quantkit load+save:   ${qkMs.toFixed(0)} ms, peak RSS ${(rss / 1e6).toFixed(0)} MB`);
    console.log(`time ratio (quantkit ÷ raw I/O): ${(qkMs / rawMs).toFixed(2)}   (target ≤ 1.5)`);
    console.log(`peak RSS ÷ model bytes:          ${(rss / bytes).toFixed(2)}   (target ≤ 1.3)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
