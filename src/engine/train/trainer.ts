// The generic training loop: every model family goes through it. It owns the run's
// randomness, batching, optimizers and schedules, metric streaming, periodic
// evaluation, sample artifacts and checkpoints, and it yields to the event loop
// between steps so interrupts arrive.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { MetricPoint, RunRecord } from '../../shared/domain';
import { writeFile } from '../util/files';
import { backendLabel } from '../backend/select';
import { GpuLostError, throwGpuFault } from '../backend/webgpu';
import { InterruptedError, type EngineContext } from '../context';
import type { Dataset } from '../data/types';
import { rows } from '../data/types';
import type { MetricKindName, Model, StepContext, StepMetrics } from '../models/types';
import { imageGridPng, scatterPng } from '../util/png';
import { textSamplesPng, waveformSamplesPng } from '../util/sequence-png';
import { mulberry32, permutation } from '../util/rng';
import { interpolationEndpoints, interpolationStrip, type Endpoints } from '../eval/interpolation';
import { formatParams, type SweepRecord } from '../../shared/compare';
import { latestCheckpointOnDisk, loadCheckpoint, NonFiniteWeightsError, saveCheckpoint } from './checkpoints';
import { FusedAdam, WebgpuAdam } from './fused-adam';
import { createOptimizer, optimizerStep, type OptimizerSettings } from './optimizers';
import { lrAt, normalizeSchedule } from './schedules';

export type TrainOptions = LatentLab.TrainOptions;

/** A metric (or the weights) became NaN/infinite: the run ends 'diverged' at `step`. */
export class DivergedError extends Error {
  constructor(readonly key: string, readonly step: number, readonly value: number, lastGood: number | null, lr: number, clipNorm: number | null) {
    const what = key.startsWith('weight ') ? `the ${key} became ${value}` : `${key} became ${value}`;
    const tips = [`a lower lr (now ${lr}, try ${Number((lr / 10).toPrecision(3))})`, clipNorm === null ? 'clipNorm: 1' : `a smaller clipNorm (now ${clipNorm})`, "a warmup (schedule: { type: 'cosine', warmup: 100 })"];
    super(
      `training diverged: ${what} at step ${step}. ${lastGood !== null ? `The last good checkpoint is step ${lastGood}` : 'No checkpoint was written before it'}; nothing after it was saved. Try ${tips.join(', ')}; a larger batchSize also steadies the gradients.`,
    );
    this.name = 'Diverged';
  }
}

/** what a resumed run starts from */
export interface ResumeTarget {
  runId: string;
  step: number;
  /** manifest path relative to the artifacts dir */
  checkpoint: string;
  bestValue: number | null;
}

/** a 32-bit mix of (seed, step): the randomness of a resumed run depends on both, never on the dead run's draws */
function mixSeed(seed: number, step: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (step + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export interface ImageHandle {
  readonly __labImage: true;
  /** relative to the artifacts dir */
  path: string;
  caption?: string;
}

export function isImageHandle(x: unknown): x is ImageHandle {
  return typeof x === 'object' && x !== null && (x as ImageHandle).__labImage === true;
}

export class Run {
  status: 'running' | 'finished' | 'stopped' | 'failed' | 'diverged' | 'crashed' = 'running';
  steps = 0;
  error: string | null = null;
  /** last value of each metric */
  readonly metrics: Record<string, number> = {};
  private readonly series = new Map<string, { steps: number[]; values: number[] }>();
  private imageCount = 0;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly model: Model,
    readonly data: Dataset,
    private readonly ctx: EngineContext,
    readonly sampleSeed: number,
  ) {}

  /** @internal */
  record(key: string, step: number, value: number): void {
    this.metrics[key] = value;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { steps: [], values: [] }));
    s.steps.push(step);
    s.values.push(value);
  }

  /** every recorded value of `key` */
  history(key: string): { steps: number[]; values: number[] } {
    const s = this.series.get(key);
    return s ? { steps: s.steps.slice(), values: s.values.slice() } : { steps: [], values: [] };
  }

  /** Draw `n` samples from the trained model and write them as a PNG (grid or scatter). */
  async samples(n = 64, seed = this.sampleSeed): Promise<ImageHandle> {
    const rel = `${this.id}/images/samples-${String(++this.imageCount).padStart(3, '0')}-step-${pad6(this.steps)}.png`;
    const x = await this.model.sample(n, undefined, seed);
    const values = (await x.data()) as Float32Array;
    x.dispose();
    let meta: Record<string, unknown>;
    let png: Buffer;
    if (this.data.kind === 'image') {
      const [h, w] = imageHW(this.data.shape);
      const grid = imageGridPng(values, n, h, w);
      png = grid.png;
      meta = { n, rows: grid.rows, cols: grid.cols };
    } else if (this.data.kind === 'sequence') {
      png = sequencePng(this.data, values, n);
      meta = { n, rows: n, cols: 1 };
    } else {
      const pts: number[][] = [];
      for (let i = 0; i < n; i++) pts.push([values[2 * i], values[2 * i + 1]]);
      png = scatterPng(pts, rows(this.data.val, 2, 1000));
      meta = { n };
    }
    writeFile(this.ctx.artifactsDir(), rel, png);
    this.ctx.send({ type: 'run.artifact', artifact: { runId: this.id, step: this.steps, kind: 'image', seed, path: rel, meta } });
    return { __labImage: true, path: rel, caption: `${this.name}: ${n} samples at step ${this.steps}` };
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, name: this.name, status: this.status, steps: this.steps, metrics: this.metrics };
  }
}

const pad6 = (n: number) => String(n).padStart(6, '0');

/**
 * A step's metrics as numbers: its scalar tensors are read back together (one read
 * on a GPU) and disposed; numbers pass through. Keys keep their order.
 */
export async function readMetrics(m: StepMetrics): Promise<Record<string, number>> {
  const keys = Object.keys(m);
  const tensorKeys = keys.filter((k) => typeof m[k] !== 'number');
  const values = new Map<string, number>();
  if (tensorKeys.length > 0) {
    const ts = tensorKeys.map((k) => m[k] as tf.Scalar);
    const all = ts.length === 1 ? ts[0] : tf.tidy(() => tf.stack(ts.map((t) => tf.reshape(t, []))));
    try {
      const v = await all.data();
      tensorKeys.forEach((k, i) => values.set(k, v[i]));
    } finally {
      tf.dispose(ts);
      if (all !== ts[0]) all.dispose();
    }
  }
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = typeof m[k] === 'number' ? (m[k] as number) : values.get(k)!;
  return out;
}

const lastRuns = new WeakMap<Model, Run>();
/** the run that last trained `model` (lab.evaluate records its results there) */
export function lastRunOf(model: Model): Run | undefined {
  return lastRuns.get(model);
}

/** a picture of sequence samples: text in the bitmap font, audio as waveforms */
export function sequencePng(data: Dataset, values: Float32Array, n: number): Buffer {
  return data.vocab ? textSamplesPng(values, n, data.dim) : waveformSamplesPng(values, n, data.dim);
}

function imageHW(shape: number[]): [number, number] {
  if (shape.length >= 2) return [shape[0], shape[1]];
  const s = Math.round(Math.sqrt(shape[0]));
  return s * s === shape[0] ? [s, s] : [1, shape[0]];
}

export function newRunId(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const rand = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return `r-${stamp}-${rand}`;
}

/** options without functions, for the run record */
function recordable(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function'));
}

/** Copy rows `idx[from..from+B)` of a split into a [B, D] tensor. */
function batchTensor(x: Float32Array, dim: number, idx: Int32Array, from: number, B: number, buf: Float32Array): tf.Tensor2D {
  for (let i = 0; i < B; i++) {
    const r = idx[from + i];
    buf.set(x.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return tf.tensor2d(buf, [B, dim]);
}

/** One-hot [n, classes] of a split's labels (what a conditional model's evaluate/testNll take). */
export function labelsOneHot(y: Uint8Array, classes: number): tf.Tensor2D {
  return labelTensor(y, classes, Int32Array.from({ length: y.length }, (_, i) => i), 0, y.length);
}

/** One-hot [B, classes] of the labels of rows `idx[from..from+B)` (the rows batchTensor copies). */
function labelTensor(y: Uint8Array, classes: number, idx: Int32Array, from: number, B: number): tf.Tensor2D {
  const buf = new Float32Array(B * classes);
  for (let i = 0; i < B; i++) buf[i * classes + y[idx[from + i]]] = 1;
  return tf.tensor2d(buf, [B, classes]);
}

/** `sweep`: the lab.sweep this run belongs to (recorded in its config as `sweep`), with the run's place in that call */
export async function train(ctx: EngineContext, model: Model, data: Dataset, opts: TrainOptions = {}, sweep: (SweepRecord & { run: number }) | null = null): Promise<Run> {
  if (!model || typeof model.trainStep !== 'function') throw new TypeError('lab.train: the first argument must be a model from lab.models');
  if (!data || !data.train || typeof data.dim !== 'number') throw new TypeError('lab.train: the second argument must be a dataset from lab.data');
  // a run resumed by the host goes on to the length it was started with
  const steps = Math.max(1, Math.floor(ctx.exec()?.resume?.totalSteps ?? opts.steps ?? 2000));
  const batchSize = Math.max(1, Math.min(Math.floor(opts.batchSize ?? 128), data.train.n));
  const seed = Math.floor(opts.seed ?? 1);
  const sampleSeed = Math.floor(opts.sampleSeed ?? 1234);
  const evalEvery = Math.max(1, Math.floor(opts.evalEvery ?? Math.max(1, Math.round(steps / 10))));
  const sampleEvery = Math.max(1, Math.floor(opts.sampleEvery ?? 200));
  const checkpointEvery = Math.max(1, Math.floor(opts.checkpointEvery ?? 1000));
  const evalSize = Math.max(1, Math.min(Math.floor(opts.evalSize ?? 1000), data.val.n));
  const schedule = normalizeSchedule(opts.schedule);
  const settings: OptimizerSettings = {
    optimizer: opts.optimizer ?? 'adam',
    lr: opts.lr ?? 1e-3,
    beta1: opts.beta1 ?? model.optimizerDefaults?.beta1 ?? 0.9,
    beta2: opts.beta2 ?? model.optimizerDefaults?.beta2 ?? 0.999,
    momentum: opts.momentum ?? 0.9,
    clipNorm: opts.clipNorm ?? null,
    weightDecay: opts.weightDecay ?? 0,
  };
  createOptimizer(settings).dispose(); // validates the optimizer name before the run starts
  // a conditional model (CVAE) learns from each row's class: the dataset must carry labels
  const labelled = !!(data.classes && data.train.y && data.val.y);
  if (model.conditional && !labelled) {
    throw new Error(`lab.train: a ${model.family} is conditioned on class labels, and ${data.name} has none: use a labelled dataset (lab.data.mnist(), lab.data.fashionMnist()) or an unconditional model`);
  }

  // a resumed run: the cell's first lab.train continues the run the host named
  // (runs.resume), or the one named by the `resume` option
  const exec0 = ctx.exec();
  let resume: ResumeTarget | null = null;
  if (opts.resume !== undefined) {
    const found = latestCheckpointOnDisk(ctx.artifactsDir(), String(opts.resume));
    if (!found) throw new Error(`lab.train: run ${opts.resume} has no periodic or final checkpoint to resume from`);
    resume = { runId: String(opts.resume), ...found };
  } else if (exec0?.resume) {
    resume = exec0.resume;
    exec0.resume = undefined;
  }
  const startStep = resume ? Math.min(resume.step, steps) : 0;

  const rng = mulberry32(seed);
  const buildRng = rng.fork();
  const batchRng = rng.fork();
  // a resumed run draws its step randomness from (seed, checkpoint step)
  const stepRng = resume ? mulberry32(mixSeed(seed, startStep)) : rng.fork();
  if (!model.built) {
    model.build({ kind: data.kind, shape: data.shape, binary: data.binary, modes: data.modes, modeStd: data.modeStd, levels: data.levels, text: data.vocab !== undefined, sampleRate: data.sampleRate, trainRows: data.train.n, ...(labelled ? { classes: data.classes } : {}) }, buildRng);
  }
  const best = opts.best === false ? null : (opts.best ?? model.bestMetric ?? null);

  const exec = ctx.exec();
  const id = resume?.runId ?? newRunId();
  // the checkpoint's weights (and optimizer state) go in before anything is announced
  let resumedOptimizers: Map<string, NamedTensor[]> | null = null;
  if (resume) {
    const abs = path.join(ctx.artifactsDir(), ...resume.checkpoint.split('/'));
    const { manifest, weights } = loadCheckpoint(abs);
    try {
      if (manifest.family !== model.family) throw new Error(`lab.train: run ${id} trained a ${manifest.family}, not a ${model.family}`);
      await model.setWeights(weights);
    } finally {
      tf.dispose(weights.map((w) => w.tensor));
    }
    resumedOptimizers = loadOptimizerState(abs);
  }
  const name = opts.name ?? `${model.family}-${data.name}${sweep ? ` ${formatParams(sweep.params)}` : ''}`;
  const run = new Run(id, name, model, data, ctx, sampleSeed);
  lastRuns.set(model, run);
  const metricKinds: Record<string, MetricKindName> = { ...model.metricKinds(), 'train/lr': 'info' };
  const startedAt = Date.now();
  const record: RunRecord = {
    id,
    notebook: exec?.notebook ?? '',
    cell: exec?.cellId ?? '',
    name,
    family: model.family,
    config: {
      model: { ...model.config },
      train: { ...recordable(opts as Record<string, unknown>), steps, batchSize, seed, sampleSeed, evalEvery, sampleEvery, checkpointEvery, evalSize, schedule, ...settings, best },
      data: { name: data.name, ...data.settings, sizes: { train: data.train.n, val: data.val.n, test: data.test.n } },
      metricKinds,
      ...(sweep ? { sweep } : {}),
    },
    code: exec?.code ?? '',
    dataFingerprint: data.fingerprint,
    dataName: data.name,
    seed,
    // the selection name tells tfjs-node-gpu from tfjs-node (both are tf's 'tensorflow'),
    // and webgpu's names its adapter ('webgpu · SwiftShader')
    backend: backendLabel(),
    status: 'running',
    steps: 0,
    totalSteps: steps,
    startedAt,
    endedAt: null,
    heartbeat: startedAt,
    error: null,
    finalMetrics: {},
  };
  // --- fixed things of the run (made before the run is announced: if they fail, no run is left 'running') ---
  const artifactsDir = ctx.artifactsDir();
  // sequences sample one position per pass: a few rows
  const bankSize = data.kind === 'image' ? 64 : data.kind === 'sequence' ? 6 : 1000;
  const noiseBank = model.noise(bankSize, sampleSeed);
  const valX = tf.tensor2d(data.val.x.subarray(0, evalSize * data.dim), [evalSize, data.dim]);
  const valY = model.conditional ? labelsOneHot(data.val.y!.subarray(0, evalSize), data.classes!) : undefined;
  const valRows = data.kind === 'points' ? rows(data.val, data.dim, 1000) : [];
  // interpolation strips need a decodable latent and images; endpoints are fixed for the run
  let ends: Endpoints | null = null;
  if (resume) ctx.send({ type: 'run.resume', runId: id, step: startStep });
  else ctx.send({ type: 'run.start', run: record });
  exec?.emit({ type: 'run', runId: id });

  // --- metric streaming ---
  let pending: MetricPoint[] = [];
  let lastFlush = Date.now();
  const flush = (force = false) => {
    if (pending.length === 0) return;
    if (!force && pending.length < 50 && Date.now() - lastFlush < 250) return;
    ctx.send({ type: 'run.metrics', runId: id, points: pending, steps: run.steps });
    pending = [];
    lastFlush = Date.now();
  };
  const push = (key: string, step: number, value: number) => {
    if (!Number.isFinite(value)) throw new DivergedError(key, step, value, lastCkptStep >= 0 ? lastCkptStep : null, settings.lr, settings.clipNorm);
    run.record(key, step, value);
    pending.push({ key, step, value, wallTime: Date.now() });
  };

  const optimizers = new Map<string, tf.Optimizer>();
  let lr = settings.lr;
  const stepCtx: StepContext = {
    minimize(group, loss, vars) {
      let opt = optimizers.get(group);
      if (!opt) optimizers.set(group, (opt = createOptimizer(settings)));
      return optimizerStep(opt, loss, vars, settings, lr);
    },
    seed: () => stepRng.seed(),
    totalSteps: steps,
  };

  let bestValue: number | null = resume?.bestValue ?? null;
  let lastSampleStep = -1;
  let lastEvalStep = -1;
  let lastCkptStep = resume ? startStep : -1;
  // optimizer state saved by the checkpoint (Adam's moments and step count): the resumed curve goes on smoothly
  if (resumedOptimizers) {
    for (const [group, state] of resumedOptimizers) {
      const opt = createOptimizer(settings);
      try {
        await opt.setWeights(state);
        optimizers.set(group, opt);
      } catch {
        opt.dispose(); // a state that does not fit this optimizer (its options changed): it starts afresh
      }
      tf.dispose(state.map((w) => w.tensor));
    }
  }

  const evaluate = async (step: number) => {
    lastEvalStep = step;
    if (!model.evaluate) return;
    const res = await model.evaluate(valX, sampleSeed + 7919, valY);
    for (const [k, { value, kind }] of Object.entries(res)) {
      metricKinds[k] = kind;
      push(k, step, value);
    }
    if (best && res[best.key] && step > 0) {
      const v = res[best.key].value;
      if (bestValue === null || (best.mode === 'max' ? v > bestValue : v < bestValue)) {
        bestValue = v;
        await checkpoint(step, 'best', best.key, v);
      }
    }
  };

  const writeSamples = async (step: number) => {
    lastSampleStep = step;
    const x = await model.sample(bankSize, noiseBank, sampleSeed);
    const values = (await x.data()) as Float32Array;
    x.dispose();
    if (data.kind === 'image') {
      const [h, w] = imageHW(data.shape);
      const grid = imageGridPng(values, bankSize, h, w, 8);
      const rel = `${id}/samples/step-${pad6(step)}.png`;
      writeFile(artifactsDir, rel, grid.png);
      ctx.send({ type: 'run.artifact', artifact: { runId: id, step, kind: 'samples', seed: sampleSeed, path: rel, meta: { n: bankSize, rows: grid.rows, cols: grid.cols } } });
      if (model.hasLatent) {
        // the run's endpoints are taken at its first grid after step 0 (an untrained encoder's
        // codes would mean nothing later); step 0 draws its strip from endpoints of its own
        const at = step === 0 ? await interpolationEndpoints(model, data.val.x, data.dim, sampleSeed + 104729) : (ends ??= await interpolationEndpoints(model, data.val.x, data.dim, sampleSeed + 104729));
        const strip = await interpolationStrip(model, at, data.dim);
        const img = imageGridPng(strip.values, strip.n, h, w, strip.n);
        const irel = `${id}/interpolation/step-${pad6(step)}.png`;
        writeFile(artifactsDir, irel, img.png);
        ctx.send({ type: 'run.artifact', artifact: { runId: id, step, kind: 'interpolation', seed: sampleSeed, path: irel, meta: { n: strip.n, rows: 1, cols: strip.n, endpoints: at.from } } });
      }
    } else if (data.kind === 'sequence') {
      const rel = `${id}/samples/step-${pad6(step)}.png`;
      writeFile(artifactsDir, rel, sequencePng(data, values, bankSize));
      ctx.send({ type: 'run.artifact', artifact: { runId: id, step, kind: 'samples', seed: sampleSeed, path: rel, meta: { n: bankSize, rows: bankSize, cols: 1 } } });
    } else {
      const samples: number[][] = [];
      for (let i = 0; i < bankSize; i++) samples.push([values[2 * i], values[2 * i + 1]]);
      const rel = `${id}/scatter/step-${pad6(step)}.json`;
      writeFile(artifactsDir, rel, JSON.stringify({ data: valRows, samples }));
      ctx.send({ type: 'run.artifact', artifact: { runId: id, step, kind: 'scatter2d', seed: sampleSeed, path: rel, meta: { n: bankSize, nData: valRows.length } } });
    }
  };

  const checkpoint = async (step: number, reason: 'periodic' | 'best' | 'final', metricKey: string | null = null, metricValue: number | null = null) => {
    const base = reason === 'best' ? 'best' : `step-${pad6(step)}`;
    let rel: string;
    try {
      rel = await saveCheckpoint(artifactsDir, `${id}/checkpoints`, base, await model.getWeights(), {
        runId: id,
        step,
        reason,
        family: model.family,
        config: { ...model.config },
        metricKey,
        metricValue,
      });
    } catch (e) {
      if (e instanceof NonFiniteWeightsError) throw new DivergedError(`weight ${e.weight}`, step, NaN, lastCkptStep >= 0 ? lastCkptStep : null, settings.lr, settings.clipNorm);
      throw e;
    }
    if (reason !== 'best') lastCkptStep = step;
    // every metric up to the checkpoint reaches the host before the checkpoint does, so a
    // run resumed from it has no gap (messages arrive in order)
    flush(true);
    ctx.send({ type: 'run.checkpoint', checkpoint: { runId: id, step, path: rel, reason, metricKey, metricValue } });
  };
  /** a periodic/final checkpoint with the optimizers' state beside it */
  const fullCheckpoint = async (step: number, reason: 'periodic' | 'final') => {
    // the optimizer state goes first: the weights' manifest is what a resume looks for
    await saveOptimizerState(artifactsDir, `${id}/checkpoints`, `step-${pad6(step)}`, optimizers, id, step, model.family);
    await checkpoint(step, reason);
  };

  let status: 'finished' | 'stopped' | 'failed' | 'diverged' | 'crashed' = 'finished';
  let error: unknown = null;
  try {
    fs.mkdirSync(path.join(artifactsDir, id), { recursive: true });
    if (!resume) {
      await evaluate(0);
      // a first grid before any step: the live view shows samples from the first second, and
      // its layout does not jump at sampleEvery (sampling draws from the sample seed only, so
      // the training's own random stream is untouched)
      flush(true);
      if (!model.samplesAfterTraining) await writeSamples(0);
    }
    flush(true);
    let perm = permutation(data.train.n, batchRng);
    let cursor = 0;
    // a resumed run replays the batch order up to its checkpoint (cheap: permutations
    // only), so step k+1 sees the batch it would have seen without the crash
    for (let step = 1; step <= startStep; step++) {
      if (cursor + batchSize > data.train.n) {
        perm = permutation(data.train.n, batchRng);
        cursor = 0;
      }
      cursor += batchSize;
    }
    run.steps = startStep;
    const buf = new Float32Array(batchSize * data.dim);
    for (let step = startStep + 1; step <= steps; step++) {
      if (exec?.signal.aborted) throw new InterruptedError();
      if (cursor + batchSize > data.train.n) {
        perm = permutation(data.train.n, batchRng);
        cursor = 0;
      }
      const batch = batchTensor(data.train.x, data.dim, perm, cursor, batchSize, buf);
      // the labels of the same rows, in the same order
      const labels = model.conditional ? labelTensor(data.train.y!, data.classes!, perm, cursor, batchSize) : undefined;
      cursor += batchSize;
      lr = lrAt(schedule, settings.lr, step, steps);
      let m: Record<string, number>;
      try {
        // a GPU fault since the last step (out of memory, a lost device) ends the run here
        throwGpuFault();
        m = await readMetrics(await model.trainStep(batch, step, labels ? { ...stepCtx, labels } : stepCtx));
      } catch (e) {
        // a read that failed because the device went away says so
        throwGpuFault();
        throw e;
      } finally {
        batch.dispose();
        labels?.dispose();
      }
      throwGpuFault();
      run.steps = step;
      for (const [k, v] of Object.entries(m)) push(k, step, v);
      if (schedule.type !== 'constant' || schedule.warmup) push('train/lr', step, lr);
      opts.onStep?.(step, m);
      if (step % evalEvery === 0) await evaluate(step);
      if (step % sampleEvery === 0) await writeSamples(step);
      if (step % checkpointEvery === 0 && step < steps) await fullCheckpoint(step, 'periodic');
      flush();
      await new Promise<void>((r) => setImmediate(r));
    }
    if (startStep < steps || !resume) {
      if (lastEvalStep !== steps) await evaluate(steps);
      if (lastSampleStep !== steps) await writeSamples(steps);
      await fullCheckpoint(steps, 'final');
    }
  } catch (e) {
    error = e;
    // a lost GPU crashes the run (its last checkpoint is where a resume starts); nothing
    // more can be read from the device, so nothing more is saved
    status = e instanceof DivergedError ? 'diverged' : e instanceof GpuLostError ? 'crashed' : e instanceof InterruptedError || exec?.signal.aborted ? 'stopped' : 'failed';
    if (status === 'stopped' && run.steps > 0 && lastCkptStep !== run.steps) {
      try {
        await fullCheckpoint(run.steps, 'final');
      } catch {
        /* best effort */
      }
    }
  } finally {
    try {
      flush(true);
    } catch {
      /* a send failure must not hide the run's own outcome */
    }
    noiseBank.dispose();
    valX.dispose();
    valY?.dispose();
    for (const o of optimizers.values()) o.dispose();
  }
  run.status = status;
  const message = error === null ? null : error instanceof Error ? error.message : String(error);
  run.error = status === 'failed' || status === 'diverged' || status === 'crashed' ? message : null;
  ctx.send({ type: 'run.end', runId: id, status, steps: run.steps, error: run.error });
  if (status === 'stopped') throw error instanceof InterruptedError ? error : new InterruptedError();
  if (status === 'failed' || status === 'diverged' || status === 'crashed') throw error;
  return run;
}

interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Writes each optimizer's state (positional: tf optimizers match moments to variables by order) as `<base>.optimizer.bin|json`. */
async function saveOptimizerState(
  artifactsDir: string, relDir: string, base: string, optimizers: Map<string, tf.Optimizer>, runId: string, step: number, family: string,
): Promise<void> {
  const named: NamedTensor[] = [];
  const owned: tf.Tensor[] = [];
  for (const [group, opt] of optimizers) {
    const state = await opt.getWeights();
    state.forEach((w, i) => {
      // tf.train's 'iter' scalar (int32; saveCheckpoint stores it as float32) and every tensor
      // of the fused Adams are fresh copies; tf.train's moments are its own variables
      if (w.name === 'iter' || opt instanceof FusedAdam || opt instanceof WebgpuAdam) owned.push(w.tensor);
      named.push({ name: `${group}#${String(i).padStart(4, '0')}`, tensor: w.tensor });
    });
  }
  try {
    if (named.length > 0) await saveCheckpoint(artifactsDir, relDir, `${base}.optimizer`, named, { runId, step, reason: 'periodic', family, config: { groups: [...optimizers.keys()] }, metricKey: null, metricValue: null });
  } catch (e) {
    // non-finite optimizer state: the weights' own check names the divergence; nothing is saved
    if (!(e instanceof NonFiniteWeightsError)) throw e;
  } finally {
    tf.dispose(owned);
  }
}

/** The optimizer state beside a checkpoint manifest, by group, in order; null when none was saved. */
function loadOptimizerState(manifestAbs: string): Map<string, NamedTensor[]> | null {
  const file = manifestAbs.replace(/\.json$/, '.optimizer.json');
  if (!fs.existsSync(file)) return null;
  const { weights } = loadCheckpoint(file);
  const groups = new Map<string, NamedTensor[]>();
  for (const w of weights) {
    const group = w.name.slice(0, w.name.lastIndexOf('#'));
    let list = groups.get(group);
    if (!list) groups.set(group, (list = []));
    list.push({ name: w.name, tensor: w.tensor });
  }
  return groups;
}
