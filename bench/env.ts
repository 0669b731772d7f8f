/** What a benchmark ran on: printed with every result, since the machines differ (AVX2 vs AVX-512 VNNI). */
import { readFileSync } from 'node:fs';
import { arch, cpus, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';

export function cpuFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = new Set(info.match(/^flags\s*:.*$/m)?.[0].split(/\s+/) ?? []);
    return ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8'].filter((f) => flags.has(f));
  } catch {
    return [];
  }
}

export function describeMachine(): string {
  const c = cpus();
  return [
    `cpu: ${c[0]?.model ?? 'unknown'} ×${c.length} (${arch()}; flags: ${cpuFlags().join(' ') || 'n/a'})`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; onnxruntime-node ${ort.env.versions.node}`,
  ].join('\n');
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * This process's peak resident memory in bytes (VmHWM). Unlike resourceUsage().maxRSS, which survives
 * exec and so starts from the parent's size in a spawned child, it counts only this process image.
 */
export function peakRss(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  return Number.isFinite(kb) ? kb * 1024 : process.resourceUsage().maxRSS * 1024;
}
