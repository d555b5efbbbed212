// Parameters: named tf variables, their names in checkpoints, and loading them back
// with shape checks. tf variable names are global to the process, so every variable
// gets a counter suffix (a notebook re-creates its models whenever a cell re-runs).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';
import { glorotLimit, uniformValues } from './init';

/** a tensor of a model under the name it has in checkpoints */
export interface NamedWeight {
  name: string;
  tensor: tf.Tensor;
}

let counter = 0;
/** a process-wide unique tf variable name */
export const uniqueName = (base: string): string => `${base}_${++counter}`;

/** the tensor named `key` among checkpoint weights, checked against the shape it must have */
export function namedTensor(byName: ReadonlyMap<string, tf.Tensor>, key: string, shape: readonly number[]): tf.Tensor {
  const t = byName.get(key);
  if (!t) throw new Error(`setWeights: missing '${key}'`);
  if (t.shape.join('x') !== shape.join('x')) throw new Error(`setWeights: '${key}' has shape [${t.shape}] but the model expects [${shape}]`);
  return t;
}

export const weightsByName = (weights: NamedWeight[]): Map<string, tf.Tensor> => new Map(weights.map((w) => [w.name, w.tensor]));

/** Loads named tensors into variables by name, with clear errors. */
export function loadNamed(weights: NamedWeight[], vars: Record<string, tf.Variable>): void {
  const byName = weightsByName(weights);
  for (const [key, v] of Object.entries(vars)) v.assign(namedTensor(byName, key, v.shape));
}

/** a named weight of a checkpoint as values, with its expected size checked */
export function weightOf(weights: NamedWeight[], name: string, length?: number): Float32Array {
  const w = weights.find((t) => t.name === name);
  if (!w) throw new Error(`setWeights: missing '${name}'`);
  const v = w.tensor.dataSync() as Float32Array;
  if (length !== undefined && v.length !== length) throw new Error(`setWeights: '${name}' has ${v.length} values but the model expects ${length}`);
  return v;
}

/** tensors made for getWeights (checkpoints), freed when the next ones are made or the model is disposed */
export class ExportedWeights {
  private live: tf.Tensor[] = [];
  set(list: NamedWeight[]): NamedWeight[] {
    this.dispose();
    this.live = list.map((w) => w.tensor);
    return list;
  }
  dispose(): void {
    tf.dispose(this.live);
    this.live = [];
  }
}

export interface Dense {
  W: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
}
export interface Conv {
  W: tf.Variable<tf.Rank.R4>;
  b: tf.Variable<tf.Rank.R1>;
}

/**
 * A network's variables by key: trainable ones for the optimizer, state (batch-norm
 * statistics, power-iteration vectors) only for checkpoints; optionally an exponential
 * moving average of the weights, saved beside them as 'ema/<key>'.
 */
export class Params {
  private readonly entries: { key: string; v: tf.Variable; trainable: boolean }[] = [];
  /** exponential moving averages of the weights, in entry order (null: off) */
  private ema: tf.Variable[] | null = null;
  private emaUpdates = 0;

  /** `name` prefixes the tf variable names; `rng` draws the initialisers of glorot/dense/conv */
  constructor(
    private readonly name: string,
    private readonly rng?: Rng,
  ) {}

  private varName(key: string): string {
    return uniqueName(`${this.name}_${key.replace(/\W/g, '_')}`);
  }

  /** a variable holding `init` (which it disposes) */
  add(key: string, init: tf.Tensor, trainable = true): tf.Variable {
    const v = tf.variable(init, trainable, this.varName(key));
    init.dispose();
    this.entries.push({ key, v, trainable });
    return v;
  }

  /** Glorot-uniform (or zeros) of `shape`, with fan-in / fan-out for the limit; a fan-in of 0 is zeros */
  glorot(key: string, shape: number[], fanIn: number, fanOut: number, zero = false): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    if (!this.rng) throw new Error(`${this.name}: Params without an Rng cannot initialise '${key}'`);
    const w = !zero && fanIn > 0 ? uniformValues(n, glorotLimit(fanIn, fanOut), this.rng) : new Float32Array(n);
    return this.add(key, tf.tensor(w, shape));
  }

  dense(key: string, nin: number, nout: number, zero = false): Dense {
    return { W: this.glorot(`${key}/W`, [nin, nout], nin, nout, zero) as tf.Variable<tf.Rank.R2>, b: this.glorot(`${key}/b`, [nout], 0, 0, true) as tf.Variable<tf.Rank.R1> };
  }
  conv(key: string, k: number, cin: number, cout: number, zero = false): Conv {
    return { W: this.glorot(`${key}/W`, [k, k, cin, cout], k * k * cin, k * k * cout, zero) as tf.Variable<tf.Rank.R4>, b: this.glorot(`${key}/b`, [cout], 0, 0, true) as tf.Variable<tf.Rank.R1> };
  }
  /** transposed convolution: filters [k, k, out, in] */
  deconv(key: string, k: number, cin: number, cout: number): Conv {
    return { W: this.glorot(`${key}/W`, [k, k, cout, cin], k * k * cin, k * k * cout) as tf.Variable<tf.Rank.R4>, b: this.glorot(`${key}/b`, [cout], 0, 0, true) as tf.Variable<tf.Rank.R1> };
  }

  /** a variable made elsewhere (a SpectralNorm's u), saved with the rest */
  adopt(key: string, v: tf.Variable, trainable: boolean): void {
    this.entries.push({ key, v, trainable });
  }

  /** the trainable variables */
  vars(): tf.Variable[] {
    return this.entries.filter((e) => e.trainable).map((e) => e.v);
  }

  /** start keeping an average of the weights (a copy of them now) */
  startEma(): void {
    this.ema = this.entries.map(({ key, v }) => tf.variable(tf.clone(v), false, this.varName(`ema/${key}`)));
  }
  /**
   * ema ← d·ema + (1 − d)·w with d = min(decay, (1 + k)/(10 + k)) after k updates: the
   * warm-up lets the average follow the fast early changes of a short run
   */
  updateEma(decay: number): void {
    if (!this.ema) return;
    const k = this.emaUpdates++;
    const d = Math.min(decay, (1 + k) / (10 + k));
    tf.tidy(() => this.ema!.forEach((e, i) => e.assign(tf.add(tf.mul(e, d), tf.mul(this.entries[i].v, 1 - d)))));
  }
  /** runs `fn` with the averaged weights in place of the trained ones (if averaging is on) */
  withEma<T>(fn: () => T): T {
    if (!this.ema) return fn();
    const saved = this.entries.map(({ v }) => tf.clone(v));
    this.entries.forEach(({ v }, i) => v.assign(this.ema![i]));
    try {
      return fn();
    } finally {
      this.entries.forEach(({ v }, i) => v.assign(saved[i]));
      tf.dispose(saved);
    }
  }

  /** every variable (and average) under `prefix/` (or bare keys without a prefix) */
  named(prefix = ''): NamedWeight[] {
    const at = (key: string) => (prefix ? `${prefix}/${key}` : key);
    return [...this.entries.map((e) => ({ name: at(e.key), tensor: e.v as tf.Tensor })), ...(this.ema ?? []).map((e, i) => ({ name: at(`ema/${this.entries[i].key}`), tensor: e as tf.Tensor }))];
  }

  /** the weights by name; the average's ('ema/…') when present, else a copy of the weights */
  load(weights: NamedWeight[], prefix = ''): void {
    const at = (key: string) => (prefix ? `${prefix}/${key}` : key);
    const byName = weightsByName(weights);
    for (const { key, v } of this.entries) {
      const t = namedTensor(byName, at(key), v.shape);
      // a variable assigned to itself would drop its own data first
      if (t !== v) v.assign(t);
    }
    this.ema?.forEach((e, i) => {
      const key = at(`ema/${this.entries[i].key}`);
      e.assign(byName.has(key) ? namedTensor(byName, key, e.shape) : this.entries[i].v);
    });
  }

  dispose(): void {
    for (const { v } of this.entries) v.dispose();
    this.ema?.forEach((e) => e.dispose());
    this.ema = null;
  }
}
