// Checkpoints: exact round trip, and crash safety — a writer killed at an arbitrary moment while
// overwriting a checkpoint leaves a whole, readable checkpoint behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint-file.js';
import type { Checkpoint } from '../../src/training/checkpoint.js';

const sample = (step: number, size: number): Checkpoint => ({
  step,
  optimizerSteps: step,
  parameters: new Map([
    ['conv.weight', new Float32Array(size).fill(step)],
    ['fc.bias', Float32Array.of(1.5, -2)],
  ]),
  batchNorm: new Map([['bn.mean', Float32Array.of(0.25)]]),
  optimizer: new Map([['conv.weight/m', new Float32Array(size).fill(-step)]]),
});

test('a checkpoint reads back exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-ckpt-'));
  try {
    const path = join(dir, 'run.ckpt.npz');
    const c = sample(7, 10);
    saveCheckpoint(path, c);
    assert.deepEqual(loadCheckpoint(path), c);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing or damaged checkpoint is refused naming the file', () => {
  assert.throws(() => loadCheckpoint('/nonexistent/run.ckpt.npz'), /cannot read checkpoint '\/nonexistent/);
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-ckpt-'));
  try {
    const path = join(dir, 'bad.npz');
    writeFileSync(path, 'not a zip');
    assert.throws(() => loadCheckpoint(path), /bad\.npz/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('killing a writer mid-overwrite leaves a whole checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-ckpt-'));
  const path = join(dir, 'run.ckpt.npz');
  // The child saves step 1, says so, then overwrites it with large checkpoints until killed.
  const script = `
    import { saveCheckpoint } from ${JSON.stringify(new URL('../../src/io/checkpoint-file.ts', import.meta.url).pathname)};
    const make = (step, size) => ({ step, optimizerSteps: step, batchNorm: new Map(), optimizer: new Map(),
      parameters: new Map([['w', new Float32Array(size).fill(step)]]) });
    saveCheckpoint(${JSON.stringify(path)}, make(1, 4));
    process.stdout.write('ready\\n');
    for (let step = 2; ; step++) saveCheckpoint(${JSON.stringify(path)}, make(step, 4 << 20));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const c = loadCheckpoint(path);
    const w = c.parameters.get('w')!;
    assert.equal(w.length, c.step === 1 ? 4 : 4 << 20);
    assert.ok(
      w.every((v) => v === c.step),
      'every value belongs to the same save',
    );
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
