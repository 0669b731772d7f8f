/**
 * ONNX Runtime sessions over in-memory Models. Everything quantkit measures — calibration ranges,
 * accuracy, latency, which Q/DQ pairs fused — is measured by running the real runtime, never a
 * simulation of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { QuantkitError } from '../errors.js';
import { writePieces } from '../io/atomic-write.js';
import { encodeModel, joinPieces, PROTOBUF_LIMIT } from '../onnx/encode.js';
import type { Model } from '../onnx/model.js';
import { makeValueInfo } from '../onnx/value-info.js';
import type { DType } from '../tensor/dtype.js';
import { checkFeeds } from './feeds.js';
import { fromOrtTensor, type RuntimeArray, type TensorClass, toOrtTensor } from './ort-tensor.js';

export interface RuntimeOptions {
  /**
   * 'native': onnxruntime-node (default). 'wasm': onnxruntime-web's WebAssembly backend run in Node —
   * the kernels browsers and transformers.js use, which favour different layers than native ones.
   */
  backend?: 'native' | 'wasm';
  /** Threads for one operator (ONNX Runtime's intra-op pool); default: ONNX Runtime's choice. */
  threads?: number;
  /** Threads running independent operators in parallel; default 1. */
  interOpThreads?: number;
  /** Graph optimization level; 'all' (the default) is what deployments run. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let idle pool threads spin. Spinning helps one session alone but, when two sessions are timed
   * side by side on few cores, each steals the other's time; benchmarks turn it off.
   */
  allowSpinning?: boolean;
  /** Where ONNX Runtime writes the model after its graph optimizations (to see what it fused). */
  optimizedModelPath?: string;
  /** Intermediate values to return as extra outputs (e.g. activations to calibrate). */
  extraOutputs?: readonly string[];
}

interface Backend {
  InferenceSession: typeof ort.InferenceSession;
  Tensor: TensorClass;
}

const NATIVE: Backend = { InferenceSession: ort.InferenceSession, Tensor: ort.Tensor };
let wasm: Promise<Backend> | undefined;

/** onnxruntime-web is loaded only when asked for; its module state (thread count) is global. */
async function backendFor(opts: RuntimeOptions): Promise<Backend> {
  if (opts.backend !== 'wasm') return NATIVE;
  wasm ??= import('onnxruntime-web').then((web) => {
    web.env.wasm.numThreads = 1;
    return {
      InferenceSession: web.InferenceSession as typeof ort.InferenceSession,
      Tensor: web.Tensor as TensorClass,
    };
  });
  return wasm;
}

export class Runner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: Model,
    readonly outputNames: readonly string[],
    private readonly backend: Backend,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  static async create(model: Model, opts: RuntimeOptions = {}): Promise<Runner> {
    const extra = (opts.extraOutputs ?? []).filter((n) => !model.graph.isGraphOutput(n));
    const g = model.graph;
    const saved = g.outputs;
    g.outputs = [...saved, ...extra.map((n) => makeValueInfo(n, g.tensorType(n).dtype))];
    const outputNames = g.outputs.map((o) => o.name);
    try {
      const backend = await backendFor(opts);
      const options = opts.backend === 'wasm' ? webSessionOptions(opts) : sessionOptions(opts);
      const session = await withModelSource(model, opts.backend === 'wasm', (source) =>
        typeof source === 'string'
          ? backend.InferenceSession.create(source, options)
          : backend.InferenceSession.create(source, options),
      );
      return new Runner(session, model, outputNames, backend);
    } catch (e) {
      if (e instanceof QuantkitError) throw e;
      throw new QuantkitError(`ONNX Runtime cannot load the model: ${firstLine(e)}`);
    } finally {
      g.outputs = saved;
    }
  }

  /** Runs one batch. Returns the requested outputs (all outputs by default). */
  async run(
    feeds: Record<string, RuntimeArray>,
    fetch: readonly string[] = this.outputNames,
  ): Promise<Record<string, RuntimeArray>> {
    checkFeeds(this.model.graph, feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, arr] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(arr, this.backend.Tensor);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(ortFeeds, [...fetch]);
    } catch (e) {
      throw new QuantkitError(`ONNX Runtime failed to run the model: ${firstLine(e)}`);
    }
    const out: Record<string, RuntimeArray> = {};
    for (const name of fetch) {
      out[name] = fromOrtTensor(results[name]);
      results[name].dispose();
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function webSessionOptions(opts: RuntimeOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['wasm'],
    graphOptimizationLevel: opts.optimization ?? 'all',
    logSeverityLevel: 3,
  };
}

function sessionOptions(opts: RuntimeOptions): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.optimization ?? 'all',
    interOpNumThreads: opts.interOpThreads ?? 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  };
  if (opts.threads !== undefined) o.intraOpNumThreads = opts.threads;
  if (opts.optimizedModelPath) o.optimizedModelFilePath = opts.optimizedModelPath;
  if (opts.allowSpinning !== undefined) {
    o.extra = { session: { intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' } } };
  }
  return o;
}

/**
 * Hands ONNX Runtime the model as bytes when it fits protobuf's limit; larger models go through a
 * temporary folder with external data, which ONNX Runtime reads while creating the session.
 */
async function withModelSource<T>(
  model: Model,
  inMemoryOnly: boolean,
  use: (source: string | Uint8Array) => Promise<T>,
): Promise<T> {
  const encoded = encodeModel(model);
  if (encoded.bytes <= PROTOBUF_LIMIT) return use(joinPieces(encoded.pieces, encoded.bytes));
  if (inMemoryOnly) {
    throw new QuantkitError(
      `the model is ${encoded.bytes} bytes, over the 2 GB a WebAssembly session can be handed in one piece`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-'));
  try {
    const path = join(dir, 'model.onnx');
    const split = encodeModel(model, { externalData: { location: 'model.onnx_data' } });
    writePieces(path, split.pieces, { sync: false });
    if (split.external)
      writePieces(join(dir, split.external.location), split.external.pieces, { sync: false });
    return await use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

export type { DType, RuntimeArray };
