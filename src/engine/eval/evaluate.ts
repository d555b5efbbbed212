// lab.evaluate(model, data.test): how good a trained model is on a split.
//  - A model with a likelihood: its negative log-likelihood, in nats and bits/dim, with
//    its kind (exact for autoregressive models and flows, a bound for a VAE, an estimate
//    for AIS), recorded as test/nll and test/bits_per_dim on the run that trained it.
//  - A model without one (a GAN): sample metrics of `samples` draws against the split —
//    FID, KID, precision/recall and class coverage on the pinned classifier's features
//    for MNIST / Fashion-MNIST, MMD for 2-D and tabular data — of kind 'sample',
//    recorded as test/fid, test/kid, ... or test/mmd, with test/sample_n and (images)
//    test/classifier_version: sample metrics compare only at the same pair.
//  - A model with a likelihood and `samples` given: both.
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../context';
import type { Split } from '../data/types';
import type { EstimatorOptions, MetricKindName, Model } from '../models/types';
import { CONVERGENCE_KEYS, convergenceNote } from '../../shared/convergence';
import { lastRunOf } from '../train/trainer';
import { CLASSIFIER_DATASETS } from './classifier';
import { imageSampleMetrics, pointSampleMetrics, type ImageSampleMetrics, type SampleMetrics } from './sample-metrics';

export type { ImageSampleMetrics, PointSampleMetrics, SampleMetrics } from './sample-metrics';

export type LikelihoodEvaluation = LatentLab.LikelihoodEvaluation;

/** What lab.evaluate returns for a model without a likelihood: its sample metrics. */
export type SampleEvaluation = SampleMetrics & { runId: string | null };

export type Evaluation = LikelihoodEvaluation | SampleEvaluation;

export type EvaluateOptions = LatentLab.EvaluateOptions;

/** the keys lab.evaluate records for sample metrics, with their kinds */
export const SAMPLE_METRIC_KINDS: Record<string, MetricKindName> = {
  'test/fid': 'sample',
  'test/kid': 'sample',
  'test/kid_std': 'sample',
  'test/precision': 'sample',
  'test/recall': 'sample',
  'test/class_coverage': 'sample',
  'test/class_entropy': 'sample',
  'test/mmd': 'sample',
  'test/sample_n': 'info',
  'test/classifier_version': 'info',
};

/** a model that has a likelihood */
export type LikelihoodModel = Model & { testNll: NonNullable<Model['testNll']> };

export function evaluateModel(ctx: EngineContext, model: LikelihoodModel, split: Split, opts?: EvaluateOptions): Promise<LikelihoodEvaluation>;
export function evaluateModel(ctx: EngineContext, model: Model, split: Split, opts?: EvaluateOptions): Promise<Evaluation>;
export async function evaluateModel(ctx: EngineContext, model: Model, split: Split, opts: EvaluateOptions = {}): Promise<Evaluation> {
  if (!model || typeof model.trainStep !== 'function') throw new TypeError('lab.evaluate: the first argument must be a model from lab.models');
  if (!split || !(split.x instanceof Float32Array) || !(split.n > 0)) throw new TypeError('lab.evaluate: the second argument must be a split, e.g. data.test');
  if (!model.built) throw new Error(`lab.evaluate: train the ${model.family} first (lab.train builds it on its data)`);
  if (opts.samples !== undefined && !(Number.isInteger(opts.samples) && opts.samples >= 10)) {
    throw new Error(`lab.evaluate: samples must be a whole number of at least 10 (got ${opts.samples})`);
  }
  if (!model.testNll || opts.likelihood === false) {
    const metrics = await sampleMetricsOf(model, split, opts.samples ?? 1000, opts);
    const run = opts.record === false ? undefined : lastRunOf(model);
    if (run) recordSampleMetrics(ctx, run, metrics, []);
    return { ...metrics, runId: run?.id ?? null };
  }
  const D = split.x.length / split.n;
  let labels: tf.Tensor2D | undefined;
  if (model.conditional) {
    // a conditional model bounds -log p(x | y): it needs each row's class
    const classes = (model as Model & { classes?: number }).classes ?? 0;
    if (!split.y || !(classes > 0)) throw new Error(`lab.evaluate: a ${model.family} bounds -log p(x|y) and needs the class of each row: pass a labelled split (e.g. data.test of lab.data.mnist())`);
    labels = tf.oneHot(tf.tensor1d(Int32Array.from(split.y), 'int32'), classes).toFloat() as tf.Tensor2D;
  }
  const x = tf.tensor2d(split.x, [split.n, D]);
  let res: Awaited<ReturnType<NonNullable<Model['testNll']>>>;
  try {
    const knobs: EstimatorOptions = {};
    if (opts.ais !== undefined) knobs.ais = opts.ais;
    if (opts.k !== undefined) knobs.k = opts.k;
    if (opts.probes !== undefined) knobs.probes = opts.probes;
    if (opts.convergence !== undefined) knobs.convergence = opts.convergence;
    res = await model.testNll(x, opts.seed ?? 271828, labels, knobs);
  } finally {
    x.dispose();
    labels?.dispose();
  }
  let sum = 0;
  for (const v of res.nll) {
    if (!Number.isFinite(v)) throw new Error(`lab.evaluate: a non-finite NLL (${v}): the model gives an example zero probability`);
    sum += v;
  }
  const nll = sum / res.nll.length;
  const bpd = nll / (D * Math.LN2);
  // sample metrics beside the likelihood, only when asked for (sampling can be slow: autoregressive models)
  const sample = opts.samples !== undefined ? await sampleMetricsOf(model, split, opts.samples, opts) : undefined;
  const run = opts.record === false ? undefined : lastRunOf(model);
  if (run) {
    const now = Date.now();
    run.record('test/nll', run.steps, nll);
    run.record('test/bits_per_dim', run.steps, bpd);
    const points = [{ key: 'test/nll', step: run.steps, value: nll, wallTime: now }, { key: 'test/bits_per_dim', step: run.steps, value: bpd, wallTime: now }];
    if (res.stderr !== undefined && Number.isFinite(res.stderr)) {
      // an estimate's own error (AIS): kept beside the number it qualifies
      run.record('test/nll_stderr', run.steps, res.stderr);
      points.push({ key: 'test/nll_stderr', step: run.steps, value: res.stderr, wallTime: now });
    }
    const kinds: Record<string, MetricKindName> = {};
    if (res.convergence) {
      // the estimate at its knob and at 4× it, so the run header and `latentlab run --json` can say whether it converged
      for (const [key, value] of convergencePoints(res.convergence)) {
        run.record(key, run.steps, value);
        points.push({ key, step: run.steps, value, wallTime: now });
        kinds[key] = 'info';
      }
    }
    if (sample) recordSampleMetrics(ctx, run, sample, points, kinds);
    else ctx.send({ type: 'run.eval', runId: run.id, points, ...(Object.keys(kinds).length > 0 ? { kinds } : {}) });
  }
  const extra = {
    ...(res.stderr !== undefined ? { stderr: res.stderr } : {}),
    ...(res.details ? { details: res.details } : {}),
    ...(res.convergence ? { convergence: { ...res.convergence, note: convergenceNote(res.convergence) } } : {}),
    ...(sample ? { sample } : {}),
  };
  return { nll_nats: nll, bits_per_dim: bpd, kind: res.kind, n: split.n, runId: run?.id ?? null, perExample: res.nll, ...extra };
}

const isImageSource = (s: string | undefined): s is (typeof CLASSIFIER_DATASETS)[number] => !!s && (CLASSIFIER_DATASETS as readonly string[]).includes(s);

/** `n` samples of the model in batches, each batch's noise drawn from `seed` and its index */
export async function drawSamples(model: Model, n: number, dim: number, seed: number, batchSize = 250): Promise<Float32Array> {
  const out = new Float32Array(n * dim);
  const B = Math.max(1, Math.floor(batchSize));
  for (let from = 0, b = 0; from < n; from += B, b++) {
    const m = Math.min(B, n - from);
    const s = (seed + 7919 * b) >>> 0;
    const noise = model.noise(m, s);
    let values: tf.Tensor2D;
    try {
      values = await model.sample(m, noise, s);
    } finally {
      noise.dispose();
    }
    const v = (await values.data()) as Float32Array;
    values.dispose();
    if (v.length !== m * dim) throw new Error(`lab.evaluate: the ${model.family}'s samples have ${v.length / m} values a row, the split ${dim}`);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new Error(`lab.evaluate: the ${model.family} drew a non-finite sample value (${v[i]})`);
    out.set(v, from * dim);
  }
  return out;
}

/** the sample metric that fits the split's data: images of MNIST / Fashion-MNIST, or points */
async function sampleMetricsOf(model: Model, split: Split, n: number, opts: EvaluateOptions): Promise<SampleMetrics> {
  const D = split.x.length / split.n;
  const data = lastRunOf(model)?.data;
  // the split names its dataset; a hand-made split falls back on the data the model was trained on
  const source = split.source ?? data?.name;
  const kind = data?.kind ?? (isImageSource(source) ? 'image' : undefined);
  const seed = opts.seed ?? 271828;
  if (isImageSource(source) && D === 784) {
    const x = await drawSamples(model, n, D, seed, opts.batchSize);
    // images live in [0,1]: a flow's or a Gaussian decoder's overshoot is clipped
    for (let i = 0; i < x.length; i++) x[i] = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];
    return imageSampleMetrics(x, n, split, source, { seed, maxReference: opts.maxReference });
  }
  if (kind === 'sequence') throw new Error(`lab.evaluate: the ${model.family} gives no likelihood, and sequences have no sample metric here`);
  if (kind === 'image') {
    throw new Error(`lab.evaluate: sample metrics of images need the pinned classifier of MNIST or Fashion-MNIST (28×28), and this split is ${source ?? 'of unknown data'}: evaluate on a split of lab.data.mnist() or lab.data.fashionMnist()`);
  }
  const x = await drawSamples(model, n, D, seed, opts.batchSize);
  return pointSampleMetrics(x, n, split, D, { maxReference: opts.maxReference });
}

/** the run keys and values of a convergence check (all of kind 'info'; see shared/convergence.ts) */
export function convergencePoints(c: LatentLab.Convergence): [string, number][] {
  const out: [string, number][] = [
    [CONVERGENCE_KEYS.nll, c.nll],
    [CONVERGENCE_KEYS.nll4x, c.nll4x],
    [CONVERGENCE_KEYS.converged, c.converged ? 1 : 0],
    [CONVERGENCE_KEYS.tolerance, c.tolerance],
    [`test/knob_${c.knob}`, c.at],
  ];
  if (c.ess !== undefined) out.push([CONVERGENCE_KEYS.ess, c.ess]);
  if (c.essOf !== undefined) out.push([CONVERGENCE_KEYS.essOf, c.essOf]);
  return out.filter(([, v]) => Number.isFinite(v));
}

/** the run keys and values of sample metrics */
export function sampleMetricPoints(m: SampleMetrics): [string, number][] {
  if (m.mmd !== undefined) return [['test/mmd', m.mmd], ['test/sample_n', m.n]];
  const im = m as ImageSampleMetrics;
  return [
    ['test/fid', im.fid],
    ['test/kid', im.kid],
    ['test/kid_std', im.kidStd],
    ['test/precision', im.precision],
    ['test/recall', im.recall],
    ['test/class_coverage', im.classCoverage],
    ['test/class_entropy', im.classEntropy],
    ['test/sample_n', im.n],
    ['test/classifier_version', im.classifierVersion],
  ];
}

type Points = { key: string; step: number; value: number; wallTime: number }[];

/**
 * Records sample metrics on the run (after `points` already gathered) and sends them
 * to the tracker, with their kinds ('sample'; the sample count and classifier version
 * 'info') for the run's metricKinds.
 */
function recordSampleMetrics(ctx: EngineContext, run: NonNullable<ReturnType<typeof lastRunOf>>, m: SampleMetrics, points: Points, kinds: Record<string, MetricKindName> = {}): void {
  const now = Date.now();
  for (const [key, value] of sampleMetricPoints(m)) {
    run.record(key, run.steps, value);
    points.push({ key, step: run.steps, value, wallTime: now });
    kinds[key] = SAMPLE_METRIC_KINDS[key];
  }
  // `kinds` lets the host add these keys to the run's config.metricKinds (a host that
  // does not know the field drops it: the compare view then reads the kinds from
  // shared/compare's metricKindOf)
  const msg = { type: 'run.eval' as const, runId: run.id, points, kinds };
  ctx.send(msg);
}
