/**
 * The calibration table TensorRT's implicit-INT8 path (and ONNX Runtime's TensorRT execution provider,
 * ORT_TENSORRT_INT8_CALIBRATION_TABLE_NAME) reads, in the two text forms ONNX Runtime's
 * write_calibration_table writes: calibration.json ({tensor: {lowest, highest}}) and calibration.cache
 * (one "tensor threshold" line each, the threshold being the larger magnitude of the two ends).
 */
import { join } from 'node:path';
import type { ClipRange } from '../calibrate/estimator.js';
import { writeFilesAtomically } from './atomic-write.js';

export function writeCalibrationTable(dir: string, ranges: ReadonlyMap<string, ClipRange>): string[] {
  const names = [...ranges.keys()].sort();
  const json: Record<string, { lowest: number; highest: number }> = {};
  const lines: string[] = [];
  for (const name of names) {
    const r = ranges.get(name)!;
    json[name] = { lowest: r.min, highest: r.max };
    lines.push(`${name} ${Math.max(Math.abs(r.min), Math.abs(r.max))}`);
  }
  const text = (s: string) => new TextEncoder().encode(s);
  const files = [
    { path: join(dir, 'calibration.json'), pieces: [text(JSON.stringify(json, null, 2))] },
    { path: join(dir, 'calibration.cache'), pieces: [text(`${lines.join('\n')}\n`)] },
  ];
  writeFilesAtomically(files);
  return files.map((f) => f.path);
}
