// The interface every model family implements, so one trainer runs them all.
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';

export type MetricKindName = LatentLab.MetricKind;

export interface MetricValue {
  value: number;
  kind: MetricKindName;
}

/** What a model knows about its data when it is built. */
export interface DataInfo {
  kind: 'image' | 'points' | 'sequence';
  /** per-example shape, e.g. [28, 28], [2] or [length] */
  shape: number[];
  binary: boolean;
  /** sequences: the number of symbols */
  levels?: number;
  /** sequences: whether the symbols are characters (text) */
  text?: boolean;
  /** audio: samples per second */
  sampleRate?: number;
  /** known mode centres (toy mixtures) */
  modes?: number[][];
  modeStd?: number;
  /** labelled data: the number of classes (rows carry a class index in 0..classes-1) */
  classes?: number;
  /**
   * rows in the training split: models that fit in closed form from counts (naive Bayes,
   * n-grams, PCA, KDE) stop counting after one pass, so more epochs leave the fit as it is
   */
  trainRows?: number;
}

/** Services the trainer gives a model for one step. */
export interface StepContext {
  /**
   * One optimizer step on `vars` for `loss`, using the run's optimizer for `group`
   * (one optimizer per group, e.g. 'g' and 'd' for a GAN), with the run's gradient
   * clipping, weight decay and learning-rate schedule. Returns the loss as a scalar
   * tensor, not read back: a model returns it among its step metrics and the trainer
   * reads them all at once (on a GPU, one read per step instead of one per number).
   */
  minimize(group: string, loss: () => tf.Scalar, vars: tf.Variable[]): tf.Scalar;
  /** a fresh integer seed for tf random ops, derived from the run's seed */
  seed(): number;
  /** the run's length in steps (models that split a run into phases: DBN layers, DBM pretraining) */
  totalSteps?: number;
  /**
   * the batch's class labels, one-hot [B, classes], row for row with the batch; given
   * only to a model that asks for labels (`conditional`) on a dataset that has them
   */
  labels?: tf.Tensor2D;
}

/** A training step's metrics: numbers, or scalar tensors the trainer reads back and disposes. */
export type StepMetrics = Record<string, number | tf.Scalar>;

/** per-example -log p(x) in nats, with what kind of number it is */
export interface TestNll {
  nll: Float32Array;
  kind: 'exact' | 'bound' | 'estimate';
  /**
   * estimates: the standard error of the mean NLL that the estimator itself adds
   * (e.g. AIS's error in log Z, shared by every example), in nats
   */
  stderr?: number;
  /** what else the estimate rests on, e.g. { logZ, logZStderr, chains, betas } */
  details?: Record<string, number>;
  /** estimators with a knob: the estimate at the knob used and at 4× it (see LatentLab.Convergence) */
  convergence?: LatentLab.Convergence;
}

/** lab.evaluate's estimator knobs (AIS chains/betas, importance samples k, Hutchinson probes, convergence) */
export type EstimatorOptions = LatentLab.EstimatorOptions;

export type { NamedWeight } from '../nn/params';
import type { NamedWeight } from '../nn/params';

/** A model as the engine sees it; cells see its public face, LatentLab.Model. */
export interface Model extends LatentLab.Model {
  family: string;
  /** the model's settings (recorded with each run) */
  config: Record<string, unknown>;
  /** metric key → kind for everything trainStep/evaluate report */
  metricKinds(): Record<string, MetricKindName>;
  /** default "best checkpoint" metric */
  bestMetric?: { key: string; mode: 'max' | 'min' };
  /** optimizer settings this family prefers unless the user overrides them (e.g. GAN beta1) */
  optimizerDefaults?: { beta1?: number; beta2?: number };
  /** whether build() has run */
  readonly built: boolean;
  /**
   * true where there is nothing to sample before the first training step (the classical
   * fits from data: a mixture, stored points, counts): the trainer leaves out its step-0 grid
   */
  readonly samplesAfterTraining?: boolean;
  build(data: DataInfo, rng: Rng): void;
  /**
   * One training step. Its metrics are numbers or scalar tensors (the trainer reads the
   * tensors after the step, all at once, and disposes them); async where the step itself
   * must read a value back (no model may read a tensor synchronously: webgpu cannot).
   */
  trainStep(batch: tf.Tensor2D, step: number, ctx: StepContext): StepMetrics | Promise<StepMetrics>;
  /** latent noise of `n` rows drawn with `seed` (a run's fixed noise bank) */
  noise(n: number, seed: number): tf.Tensor2D;
  /**
   * generated examples [n, D]; images in [0,1]. Uses `noise` when given. A Promise where
   * sampling reads values back as it goes (autoregressive models, MAF, the classical
   * models' host-side draws): callers await it.
   */
  sample(n: number, noise?: tf.Tensor2D, seed?: number): tf.Tensor2D | Promise<tf.Tensor2D>;
  /** `labels`: one-hot [n, classes] of the rows, given to a conditional model */
  evaluate?(val: tf.Tensor2D, seed: number, labels?: tf.Tensor2D): Promise<Record<string, MetricValue>>;
  /**
   * -log p(x) per example in nats, on the scale the family reports (8-bit for
   * dequantized images), with what kind of number it is: lab.evaluate's source.
   */
  testNll?(x: tf.Tensor2D, seed: number, labels?: tf.Tensor2D, opts?: EstimatorOptions): Promise<TestNll>;
  /**
   * true when the model is conditioned on class labels (a CVAE): the trainer then gives
   * trainStep the batch's labels (StepContext.labels) and evaluate the validation labels
   */
  readonly conditional?: boolean;
  /** a conditional model's number of classes (the width of its one-hot labels), once built */
  readonly classes?: number;
  /**
   * Where `noise` draws a latent code that `sample` decodes without further
   * randomness, so codes between two endpoints can be decoded (interpolation strips).
   */
  readonly hasLatent?: boolean;
  /** latent codes of examples (a VAE's posterior means): interpolation endpoints taken from data */
  encodeMean?(x: tf.Tensor2D): tf.Tensor2D | Promise<tf.Tensor2D>;
  getWeights(): NamedWeight[] | Promise<NamedWeight[]>;
  /** may finish asynchronously (a model that keeps host copies of weights reads them back) */
  setWeights(weights: NamedWeight[]): void | Promise<void>;
  dispose(): void;
}

/** `m` as the engine's model, or a TypeError naming `where` (a cell can pass anything) */
export function engineModel(m: LatentLab.Model, where: string): Model {
  if (!m || typeof (m as Model).trainStep !== 'function') throw new TypeError(`${where}: the first argument must be a model from lab.models`);
  return m as Model;
}
