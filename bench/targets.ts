/**
 * INT8 vs FP32 speed per target profile (issue 8): the bundled CNN and the MobileNetV2-style net,
 * batch 1 and 64, one thread, runs interleaved in one process with thread-pool spinning off, each in
 * the runtime the target names (onnxruntime-node, or onnxruntime-web's WebAssembly build in Node).
 */
import { recordBatches } from '../src/data/batches.js';
import { requiredInputs } from '../src/data/model-inputs.js';
import { arraySampleSource } from '../src/data/sample-source.js';
import { evaluate } from '../src/evaluate/evaluate.js';
import { loadModel } from '../src/io/model-file.js';
import { quantize } from '../src/pipeline/quantize.js';
import type { Target } from '../src/pipeline/options.js';
import { cpuFeatures } from '../src/runtime/latency.js';
import { sliceAxis0 } from '../src/tensor/ndarray.js';
import { fashionMnist, MODELS } from '../examples/fmnist.js';

const MODEL_NAMES = ['fmnist_cnn', 'fmnist_mobilenet'];

export async function benchTargets(): Promise<void> {
  const calib = fashionMnist('calib');
  const test = fashionMnist('test');
  const cpu = cpuFeatures();
  const vnni = cpu.flags.some((f) => f === 'avx512_vnni' || f === 'avx_vnni');
  // The VNNI profile saturates on a CPU without VNNI: timing it there would measure a broken model.
  const targets: Target[] = [vnni ? 'ort-cpu:vnni' : 'ort-cpu:avx2', 'ort-wasm'];
  console.log(
    `\n## Targets: INT8 vs FP32 speed, 1 thread, interleaved (CPU flags: ${cpu.flags.join(' ') || 'none'})`,
  );
  console.log('| target | model | batch | FP32 ms | INT8 ms | speed-up | top-1 Δ (2000 images) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const target of targets) {
    const backend = target === 'ort-wasm' ? 'wasm' : 'native';
    for (const name of MODEL_NAMES) {
      const fp32 = loadModel(`${MODELS}/${name}.onnx`);
      const source = arraySampleSource({ input: calib.x }, requiredInputs(fp32.graph));
      const { model } = await quantize(fp32, { calibration: source, target });
      const accuracy = await evaluate(model, recordBatches({ input: test.x }, 500), {
        labels: test.labels,
        reference: fp32,
        latency: false,
        runtime: { backend },
      });
      for (const batch of [1, 64]) {
        const r = await evaluate(model, recordBatches({ input: sliceAxis0(test.x, 0, batch) }, batch), {
          reference: fp32,
          batchSize: batch,
          runtime: { backend },
          latency: { runs: backend === 'wasm' ? (batch === 1 ? 60 : 12) : batch === 1 ? 200 : 40 },
        });
        console.log(
          `| ${target} | ${name} | ${batch} | ${r.reference!.latencyMs!.cpuMedian.toFixed(2)} | ` +
            `${r.latencyMs!.cpuMedian.toFixed(2)} | ${r.comparison!.speedup!.toFixed(2)}× | ` +
            `${((accuracy.comparison!.accuracyDelta ?? 0) * 100).toFixed(2)} pt |`,
        );
      }
      fp32.dispose();
    }
  }
}
