/** Target profiles by name, and which one a name (or `auto`) means on a given machine. */
import { QuantkitError } from '../errors.js';
import { ORT_CPU_ARM64, ORT_CPU_AVX2, ORT_CPU_VNNI } from './ort-cpu.js';
import { ORT_WASM } from './ort-wasm.js';
import type { TargetProfile } from './profile.js';
import { TENSORRT } from './tensorrt.js';

export const TARGETS: Readonly<Record<string, TargetProfile>> = Object.fromEntries(
  [ORT_CPU_VNNI, ORT_CPU_AVX2, ORT_CPU_ARM64, ORT_WASM, TENSORRT].map((t) => [t.name, t]),
);

/** The machine a model is quantized on. */
export interface HostInfo {
  /** Node's process.arch: 'x64', 'arm64', ... */
  arch: string;
  /** CPU flags as /proc/cpuinfo names them (avx2, avx512_vnni, avx_vnni, amx_int8, asimddp, ...). */
  flags: readonly string[];
}

export interface ResolvedTarget {
  profile: TargetProfile;
  /** Why this profile, for the report. */
  reason: string;
}

const NAMES = ['auto', 'ort-cpu', ...Object.keys(TARGETS)];

/**
 * `auto` and `ort-cpu` mean ONNX Runtime's CPU provider on this machine: arm64, x86 with VNNI, or — for
 * x86 without VNNI and anything unknown — the profile that is safe everywhere (7-bit weights).
 */
export function resolveTarget(name: string, host: HostInfo): ResolvedTarget {
  if (name !== 'auto' && name !== 'ort-cpu') {
    const profile = TARGETS[name];
    if (!profile) throw new QuantkitError(`unknown target '${name}' (choose from ${NAMES.join(', ')})`);
    return { profile, reason: `target ${name} (asked for)` };
  }
  const via = name === 'auto' ? 'auto: this machine, ' : '';
  if (host.arch === 'arm64')
    return { profile: ORT_CPU_ARM64, reason: `target ${via}ort-cpu:arm64 (arm64 CPU)` };
  const vnni = host.flags.find((f) => f === 'avx512_vnni' || f === 'avx_vnni' || f === 'amx_int8');
  if (vnni) return { profile: ORT_CPU_VNNI, reason: `target ${via}ort-cpu:vnni (the CPU has ${vnni})` };
  const why = host.flags.includes('avx2') ? 'AVX2 without VNNI' : 'no known int8 dot-product instructions';
  return {
    profile: ORT_CPU_AVX2,
    reason: `target ${via}ort-cpu:avx2 (${why}: 7-bit weights against saturation)`,
  };
}

export function targetNames(): string[] {
  return NAMES;
}
