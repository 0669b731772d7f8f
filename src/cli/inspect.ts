/** `quantkit inspect MODEL [--json]` */
import type { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../io/model-file.js';
import { type ModelSummary, summarizeModel } from '../onnx/summary.js';
import { formatShape } from '../onnx/value-info.js';
import { Runner } from '../runtime/session.js';
import { formatBytes, formatCount, table } from './format.js';

interface InspectOptions {
  json?: boolean;
  runtime: boolean;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'show a model: inputs/outputs, opsets, operators, parameters, largest tensors, external data',
    )
    .argument('<model>', 'ONNX model file')
    .option('--json', 'print one JSON object')
    .option('--no-runtime', 'skip the check that ONNX Runtime can load the model')
    .action(async (path: string, opts: InspectOptions) => {
      const model = loadModel(path);
      try {
        const summary = summarizeModel(model);
        const runtime = opts.runtime ? await checkRuntime(model) : undefined;
        if (opts.json) console.log(JSON.stringify({ file: path, ...summary, runtime }, null, 2));
        else console.log(render(path, summary, runtime));
      } finally {
        model.dispose();
      }
    });
}

interface RuntimeCheck {
  loads: boolean;
  version: string;
  error?: string;
}

async function checkRuntime(model: Parameters<typeof Runner.create>[0]): Promise<RuntimeCheck> {
  const version = ort.env.versions.node ?? 'unknown';
  try {
    const r = await Runner.create(model, { optimization: 'disabled', threads: 1 });
    await r.release();
    return { loads: true, version };
  } catch (e) {
    return { loads: false, version, error: (e as Error).message };
  }
}

function render(path: string, s: ModelSummary, runtime: RuntimeCheck | undefined): string {
  const lines: string[] = [];
  const opsets = Object.entries(s.opsets)
    .map(([d, v]) => `${d || 'ai.onnx'} ${v}`)
    .join(', ');
  lines.push(`${path}`);
  lines.push(
    `  IR version ${s.irVersion}; opsets: ${opsets}${s.producer ? `; producer: ${s.producer}` : ''}`,
  );
  lines.push('');
  const io = [
    ...s.inputs.map((v) => ['input', v.name, v.dtype ?? '?', formatShape(v.shape ?? undefined)]),
    ...s.outputs.map((v) => ['output', v.name, v.dtype ?? '?', formatShape(v.shape ?? undefined)]),
  ];
  lines.push(table(io, ['', 'name', 'type', 'shape']));
  lines.push('');
  const ops = Object.entries(s.opCountsWithSubgraphs).sort((a, b) => b[1] - a[1]);
  const sub = Object.values(s.opCountsWithSubgraphs).reduce((a, b) => a + b, 0) - s.nodes;
  lines.push(`operators: ${s.nodes} nodes${sub > 0 ? ` (+${sub} in subgraphs)` : ''}`);
  lines.push(`  ${ops.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  lines.push('');
  const totalBytes = Object.values(s.bytesByDtype).reduce((a, b) => a + b, 0);
  lines.push(`parameters: ${formatCount(s.parameters)} in ${formatBytes(totalBytes)}`);
  lines.push(
    `  ${Object.entries(s.bytesByDtype)
      .map(([d, b]) => `${d} ${formatBytes(b)}`)
      .join(', ')}`,
  );
  if (s.largestTensors.length > 0) {
    lines.push('');
    lines.push('largest tensors:');
    lines.push(
      table(
        s.largestTensors.map((t) => [
          `  ${t.name}`,
          t.dtype,
          formatShape(t.dims),
          formatBytes(t.bytes),
          t.location ?? '',
        ]),
      ),
    );
  }
  if (s.externalData.length > 0) {
    lines.push('');
    lines.push('external data:');
    for (const e of s.externalData)
      lines.push(`  ${e.location}: ${e.tensors} tensors, ${formatBytes(e.bytes)}`);
  }
  if (runtime) {
    lines.push('');
    lines.push(
      runtime.loads
        ? `ONNX Runtime ${runtime.version}: loads`
        : `ONNX Runtime ${runtime.version}: cannot load it: ${runtime.error}`,
    );
  }
  return lines.join('\n');
}
