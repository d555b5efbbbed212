// lab.evaluate(model, data.test): the model's negative log-likelihood on a split,
// in nats and bits/dim, with its kind (exact for autoregressive models and flows,
// a bound for a VAE), recorded as test/nll and test/bits_per_dim on the run that
// trained the model (if any).
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../context';
import type { Split } from '../data/types';
import type { Model } from '../models/types';
import { lastRunOf } from '../train/trainer';

export interface Evaluation {
  nll_nats: number;
  bits_per_dim: number;
  kind: 'exact' | 'bound' | 'estimate';
  /** examples evaluated */
  n: number;
  /** the run the result was recorded on, or null */
  runId: string | null;
  /** per-example NLL in nats (histograms, detectors) */
  perExample: Float32Array;
  /** estimates: the standard error the estimator adds to nll_nats (e.g. AIS's error in log Z), in nats */
  stderr?: number;
  /** what the estimate rests on (log Z, chains, ...) */
  details?: Record<string, number>;
}

export function evaluateModel(ctx: EngineContext, model: Model, split: Split, opts: { seed?: number; record?: boolean } = {}): Evaluation {
  if (!model || typeof model.trainStep !== 'function') throw new TypeError('lab.evaluate: the first argument must be a model from lab.models');
  if (!split || !(split.x instanceof Float32Array) || !(split.n > 0)) throw new TypeError('lab.evaluate: the second argument must be a split, e.g. data.test');
  if (!model.testNll) throw new TypeError(`lab.evaluate: ${model.family} gives no likelihood to evaluate (judge it by its samples)`);
  if (!model.built) throw new Error(`lab.evaluate: train the ${model.family} first (lab.train builds it on its data)`);
  const D = split.x.length / split.n;
  let labels: tf.Tensor2D | undefined;
  if (model.conditional) {
    // a conditional model bounds -log p(x | y): it needs each row's class
    const classes = (model as Model & { classes?: number }).classes ?? 0;
    if (!split.y || !(classes > 0)) throw new Error(`lab.evaluate: a ${model.family} bounds -log p(x|y) and needs the class of each row: pass a labelled split (e.g. data.test of lab.data.mnist())`);
    labels = tf.oneHot(tf.tensor1d(Int32Array.from(split.y), 'int32'), classes).toFloat() as tf.Tensor2D;
  }
  const x = tf.tensor2d(split.x, [split.n, D]);
  let res: ReturnType<NonNullable<Model['testNll']>>;
  try {
    res = model.testNll(x, opts.seed ?? 271828, labels);
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
    ctx.send({ type: 'run.eval', runId: run.id, points });
  }
  const extra = { ...(res.stderr !== undefined ? { stderr: res.stderr } : {}), ...(res.details ? { details: res.details } : {}) };
  return { nll_nats: nll, bits_per_dim: bpd, kind: res.kind, n: split.n, runId: run?.id ?? null, perExample: res.nll, ...extra };
}
