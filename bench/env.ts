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
