/**
 * The flags `quantize` and `qat` share: which ops and nodes static quantization touches, how weights
 * and activations are scaled, and the target runtime.
 */
import type { Command } from 'commander';

export function addPlacementFlags(cmd: Command): Command {
  return cmd
    .option('--per-channel', 'one scale per output channel for Conv/Gemm/MatMul weights (default)')
    .option('--no-per-channel', 'one scale per weight tensor')
    .option('--symmetric-weights', 'zero point 0 for weights (default for signed types)')
    .option('--symmetric-activations', 'zero point 0 (or the middle code) for activations')
    .option('--reduce-range', '7-bit weights (default on x86 CPUs without VNNI)')
    .option('--no-reduce-range', 'full 8-bit weights')
    .option('--op-types <list>', 'quantize only these op types (comma-separated)')
    .option('--exclude-op-types <list>', 'leave these op types in float')
    .option('--exclude-nodes <list>', 'leave these nodes (by name) in float')
    .option(
      '--target <target>',
      'auto (default: this machine) | ort-cpu | ort-cpu:vnni | ort-cpu:avx2 | ort-cpu:arm64 | ort-wasm | tensorrt',
    );
}
