/**
 * The training loop: each step feeds a shuffled batch, its targets (and the teacher's logits when
 * distilling) and the current parameters to one ONNX Runtime session that returns the loss, every
 * gradient, the logits and BatchNormalization's updated running statistics; the optimiser then updates
 * the parameters in place. Everything numeric stays in typed arrays between steps.
 */
import { QuantkitError } from '../errors.js';
import { recordBatches } from '../data/batches.js';
import { evaluate } from '../evaluate/evaluate.js';
import { classifierLayout, countMatches, top1 } from '../evaluate/top1.js';
import { cloneModel } from '../onnx/clone.js';
import type { Model } from '../onnx/model.js';
import type { ProgressCallback } from '../progress.js';
import { Runner, type RuntimeOptions } from '../runtime/session.js';
import type { NdArray } from '../tensor/ndarray.js';
import { batchNormNodes, updateRunning } from './batchnorm.js';
import type { Checkpoint } from './checkpoint.js';
import { createOptimizer, type OptimizerSettings } from './optim/create.js';
import type { Optimizer, Parameter } from './optim/optimizer.js';
import { readParameters, trainableNames, writeParameters } from './parameters.js';
import { checkSchedule, learningRate, type Schedule } from './schedule.js';
import { type Batch, Batcher, oneHot, type TrainData } from './train-data.js';
import { buildTrainingGraph, type LossSpec, type TrainingGraph } from './training-graph.js';

export interface TrainOptions {
  data: TrainData;
  /** Held-out data whose top-1 is measured every `evalEvery` steps and at the end. */
  evalData?: TrainData;
  loss?: LossSpec;
  /** The teacher for distillation: a model with the same inputs and logits output. */
  teacher?: Model;
  /** The logits output; default the model's first output. */
  output?: string;
  batchSize: number;
  steps: number;
  schedule: Omit<Schedule, 'totalSteps'>;
  optimizer: OptimizerSettings;
  seed?: number;
  horizontalFlip?: boolean;
  /** Steps after which BatchNormalization uses (and stops updating) its running statistics. */
  freezeBatchNormAfter?: number;
  /** Quantizer scales (or other values) to learn besides the model's own parameters; kept positive. */
  scales?: readonly string[];
  /** Parameters to leave as they are. */
  frozen?: readonly string[];
  evalEvery?: number;
  checkpointEvery?: number;
  onCheckpoint?: (c: Checkpoint) => void | Promise<void>;
  resume?: Checkpoint;
  runtime?: RuntimeOptions;
  onProgress?: ProgressCallback;
  onLog?: (entry: TrainLog) => void;
}

export interface TrainLog {
  step: number;
  epoch: number;
  lr: number;
  /** Mean loss and top-1 over the steps since the previous entry. */
  loss: number;
  trainAccuracy: number;
  evalAccuracy?: number;
  seconds: number;
}

export interface TrainResult {
  /** The forward model with the trained values (BatchNormalization in inference form). */
  model: Model;
  parameters: Map<string, Float32Array>;
  history: TrainLog[];
  evalAccuracy?: number;
  steps: number;
  seconds: number;
  /** Training samples per second over the run (forward + backward + update). */
  samplesPerSecond: number;
}

/** Smallest value a learned scale may take: a zero or negative step size has no meaning. */
const MIN_SCALE = 1e-8;

export async function train(model: Model, opts: TrainOptions): Promise<TrainResult> {
  return new Trainer(model, opts).run();
}

class Trainer {
  private readonly forward: Model;
  private readonly params: Parameter[];
  private readonly scales: Set<string>;
  private readonly batchNorm = new Map<string, Float32Array>();
  private readonly logits: string;
  private readonly history: TrainLog[] = [];
  private readonly loss: LossSpec;
  /** One-hot targets of the current batch. */
  private target = new Float32Array(0);

  constructor(
    model: Model,
    private readonly opts: TrainOptions,
  ) {
    this.forward = cloneModel(model);
    this.logits = opts.output ?? model.graph.outputs[0]?.name;
    if (!this.logits || !model.graph.isGraphOutput(this.logits)) {
      throw new QuantkitError(`the model has no output '${this.logits ?? ''}' to train as logits`);
    }
    this.loss = opts.loss ?? { kind: 'cross-entropy' };
    if (this.loss.kind === 'distillation' && !opts.teacher) {
      throw new QuantkitError('distillation needs the teacher model');
    }
    checkSchedule({ ...opts.schedule, totalSteps: opts.steps });
    const frozen = new Set(opts.frozen ?? []);
    const names = trainableNames(this.forward, opts.scales).filter((n) => !frozen.has(n));
    this.scales = new Set(opts.scales ?? []);
    this.params = readParameters(this.forward.graph, names, this.scales);
    const g = this.forward.graph;
    for (const n of batchNormNodes(g))
      for (const s of n.inputs.slice(3, 5))
        this.batchNorm.set(s, Float32Array.from(g.initializers.get(s)!.toFloat32()));
  }

  async run(): Promise<TrainResult> {
    const o = this.opts;
    const optimizer = createOptimizer(o.optimizer);
    let step = 0;
    if (o.resume) step = this.restore(o.resume, optimizer);
    const batcher = new Batcher(o.data, {
      batchSize: o.batchSize,
      seed: o.seed ?? 0,
      horizontalFlip: o.horizontalFlip,
    });
    this.target = new Float32Array(o.batchSize * this.classCount());
    const teacher = o.teacher
      ? { runner: await Runner.create(o.teacher, o.runtime), output: o.teacher.graph.outputs[0].name }
      : undefined;
    const freezeAt = o.freezeBatchNormAfter ?? Infinity;
    const start = performance.now();
    let graph: TrainingGraph | undefined;
    let runner: Runner | undefined;
    let window = { loss: 0, correct: 0, samples: 0, steps: 0 };
    let evalAccuracy: number | undefined;
    try {
      for (; step < o.steps; step++) {
        const training = this.batchNorm.size > 0 && step < freezeAt;
        if (!graph || graph.batchNorm.length > 0 !== training) {
          await runner?.release();
          graph = this.build(training);
          runner = await Runner.create(graph.model, o.runtime);
        }
        const batch = batcher.batch(step);
        const lr = learningRate({ ...o.schedule, totalSteps: o.steps }, step);
        const { loss, correct } = await this.step(runner!, graph, batch, lr, optimizer, teacher);
        window.loss += loss;
        window.correct += correct;
        window.samples += o.batchSize;
        window.steps++;
        const done = step + 1;
        const evalNow =
          o.evalData && (done === o.steps || (o.evalEvery !== undefined && done % o.evalEvery === 0));
        if (evalNow) evalAccuracy = await this.evaluate();
        const logNow = evalNow || done % batcher.stepsPerEpoch === 0 || done === o.steps;
        const meanLoss = window.loss / window.steps;
        const accuracy = window.correct / window.samples;
        o.onProgress?.({
          stage: 'train',
          done,
          total: o.steps,
          detail:
            `loss ${meanLoss.toFixed(4)} acc ${(100 * accuracy).toFixed(1)}%` +
            (evalAccuracy === undefined ? '' : ` eval ${(100 * evalAccuracy).toFixed(2)}%`),
        });
        if (logNow) {
          const entry: TrainLog = {
            step: done,
            epoch: done / batcher.stepsPerEpoch,
            lr,
            loss: meanLoss,
            trainAccuracy: accuracy,
            seconds: (performance.now() - start) / 1000,
          };
          if (evalNow) entry.evalAccuracy = evalAccuracy;
          this.history.push(entry);
          o.onLog?.(entry);
          window = { loss: 0, correct: 0, samples: 0, steps: 0 };
        }
        if (o.onCheckpoint && o.checkpointEvery && (done % o.checkpointEvery === 0 || done === o.steps))
          await o.onCheckpoint(this.checkpoint(done, optimizer));
      }
    } finally {
      await runner?.release();
      await teacher?.runner.release();
    }
    const seconds = (performance.now() - start) / 1000;
    const trained = (o.steps - (o.resume?.step ?? 0)) * o.batchSize;
    return {
      model: this.currentModel(),
      parameters: new Map(this.params.map((p) => [p.name, p.data])),
      history: this.history,
      evalAccuracy,
      steps: o.steps,
      seconds,
      samplesPerSecond: trained / seconds,
    };
  }

  /** One optimiser step on `batch`; returns its loss and how many samples it classified right. */
  private async step(
    runner: Runner,
    graph: TrainingGraph,
    batch: Batch,
    lr: number,
    optimizer: Optimizer,
    teacher: { runner: Runner; output: string } | undefined,
  ): Promise<{ loss: number; correct: number }> {
    const feeds: Record<string, NdArray> = { ...batch.inputs };
    const rows = batch.labels.length;
    const classes = this.target.length / rows;
    oneHot(batch.labels, classes, this.target);
    feeds[graph.loss.target] = { dtype: 'float32', shape: [rows, classes], data: this.target };
    if (teacher && graph.loss.teacherLogits) {
      const out = await teacher.runner.run(batch.inputs, [teacher.output]);
      feeds[graph.loss.teacherLogits] = out[teacher.output] as NdArray;
    }
    for (const p of this.params) feeds[p.name] = { dtype: 'float32', shape: [...p.shape], data: p.data };
    const out = (await runner.run(feeds)) as Record<string, NdArray>;
    const loss = (out[graph.loss.loss].data as Float32Array)[0];
    if (!Number.isFinite(loss)) {
      throw new QuantkitError(
        `the loss became ${loss} at step ${optimizer.steps + 1}; lower the learning rate (--lr) or check the data for NaN`,
      );
    }
    const grads = new Map([...graph.gradients].map(([p, g]) => [p, out[g].data as Float32Array]));
    optimizer.step(this.params, grads, lr);
    for (const p of this.params) if (this.scales.has(p.name)) clampBelow(p.data, MIN_SCALE);
    for (const b of graph.batchNorm) {
      updateRunning(this.batchNorm.get(b.mean)!, out[b.batchMean].data as Float32Array, b.momentum);
      updateRunning(this.batchNorm.get(b.variance)!, out[b.batchVariance].data as Float32Array, b.momentum);
    }
    const logits = out[graph.logits];
    const predicted = top1(logits.data as Float32Array, classifierLayout(logits.shape, 'logits'));
    return { loss, correct: countMatches(predicted, batch.labels) };
  }

  private build(batchNormTraining: boolean): TrainingGraph {
    const forward = batchNormTraining ? this.forward : this.currentModel();
    return buildTrainingGraph(forward, {
      logits: this.logits,
      loss: this.loss,
      parameters: this.params.map((p) => p.name),
      batchNormTraining,
    });
  }

  /** The forward model holding the current parameters and running statistics. */
  currentModel(): Model {
    const m = cloneModel(this.forward);
    writeParameters(m.graph, new Map(this.params.map((p) => [p.name, p.data])));
    writeParameters(m.graph, this.batchNorm);
    return m;
  }

  private async evaluate(): Promise<number> {
    const d = this.opts.evalData!;
    const result = await evaluate(this.currentModel(), recordBatches(d.inputs, 256), {
      labels: d.labels,
      output: this.logits,
      latency: false,
      runtime: this.opts.runtime,
    });
    return result.accuracy!;
  }

  private classCount(): number {
    const shape = this.forward.graph.tensorType(this.logits).shape;
    const c = shape?.[shape.length - 1];
    if (typeof c === 'number') return c;
    let max = 0;
    for (const l of this.opts.data.labels) max = Math.max(max, l);
    return max + 1;
  }

  private checkpoint(step: number, optimizer: Optimizer): Checkpoint {
    return {
      step,
      parameters: new Map(this.params.map((p) => [p.name, Float32Array.from(p.data)])),
      batchNorm: new Map([...this.batchNorm].map(([k, v]) => [k, Float32Array.from(v)])),
      optimizer: optimizer.state(),
      optimizerSteps: optimizer.steps,
    };
  }

  private restore(c: Checkpoint, optimizer: Optimizer): number {
    for (const p of this.params) {
      const v = c.parameters.get(p.name);
      if (!v || v.length !== p.data.length) {
        throw new QuantkitError(
          `the checkpoint has no ${p.data.length} values for parameter '${p.name}'; was it made from this model?`,
        );
      }
      p.data.set(v);
    }
    for (const [k, v] of c.batchNorm) if (this.batchNorm.has(k)) this.batchNorm.set(k, Float32Array.from(v));
    optimizer.restore(c.optimizer, c.optimizerSteps);
    return c.step;
  }
}

function clampBelow(a: Float32Array, min: number): void {
  for (let i = 0; i < a.length; i++) if (!(a[i] >= min)) a[i] = min;
}
