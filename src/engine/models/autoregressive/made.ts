// MADE (Germain et al.): an MLP made autoregressive by masks. Input d gets the
// number m0(d) = its place in the order (1..D); hidden unit k of layer l gets
// m_l(k) in [min m_{l-1}, D-1]; a hidden weight k' -> k exists when m_l(k) >= m_{l-1}(k'),
// an output weight k -> d when m0(d) > m_L(k). So output d sees only inputs earlier
// in the order. With `masks: K > 1` training cycles through K orders/connectivities
// (one per step) and evaluation averages the K models' probabilities: a mixture,
// still an exact likelihood.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import { BinaryAutoregressive } from './chain-rule';
import { loadNamed, uniqueName } from '../../nn/params';
import { glorotLimit, seededMatrix } from '../../nn/init';
import type { NamedWeight, StepContext, StepMetrics } from '../types';

export type MadeConfig = LatentLab.MadeConfig;

export interface MadeMasks {
  /** the generation order: order[t] = data index generated t-th */
  order: Int32Array;
  /** one [in, out] 0/1 mask per layer, the last one to the outputs */
  layers: Float32Array[];
}

/** The masks of one ordering/connectivity (seeded; `given` fixes the order), for sizes [D, ...hidden, D]. */
export function madeMasks(D: number, hidden: number[], rng: Rng, shuffleOrder: boolean, given?: Int32Array): MadeMasks {
  const order = given ? Int32Array.from(given) : Int32Array.from({ length: D }, (_, i) => i);
  if (shuffleOrder && !given) {
    for (let i = D - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const m0 = new Int32Array(D);
  order.forEach((d, t) => (m0[d] = t + 1));
  const ms: Int32Array[] = [m0];
  for (const H of hidden) {
    const prev = ms[ms.length - 1];
    const lo = Math.min(D - 1, Math.max(1, prev.reduce((a, b) => Math.min(a, b), D)));
    const m = new Int32Array(H);
    // spread evenly over [lo, D-1] with a seeded offset: every degree is represented when H >= D - lo
    for (let k = 0; k < H; k++) m[k] = lo + Math.floor(((k + rng.next()) * (D - lo)) / H);
    ms.push(m);
  }
  const layers: Float32Array[] = [];
  for (let l = 1; l < ms.length; l++) {
    const a = ms[l - 1], b = ms[l];
    const mask = new Float32Array(a.length * b.length);
    for (let i = 0; i < a.length; i++) for (let k = 0; k < b.length; k++) mask[i * b.length + k] = b[k] >= a[i] ? 1 : 0;
    layers.push(mask);
  }
  const last = ms[ms.length - 1];
  const out = new Float32Array(last.length * D);
  for (let k = 0; k < last.length; k++) for (let d = 0; d < D; d++) out[k * D + d] = m0[d] > last[k] ? 1 : 0;
  layers.push(out);
  return { order, layers };
}

export class Made extends BinaryAutoregressive {
  readonly family = 'made';
  readonly config: { hidden: number[]; masks: number; resampleOrder: boolean };
  private Ws: tf.Variable[] = [];
  private bs: tf.Variable[] = [];
  private maskSets: { order: Int32Array; layers: tf.Tensor2D[] }[] = [];
  private current = 0;

  constructor(cfg: MadeConfig = {}) {
    super();
    this.config = { hidden: cfg.hidden ?? [500], masks: cfg.masks ?? 1, resampleOrder: cfg.resampleOrder ?? true };
    if (!this.config.hidden.length || this.config.hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new Error('made: hidden must be a list of whole numbers >= 1');
    if (!Number.isInteger(this.config.masks) || this.config.masks < 1) throw new Error('made: masks must be a whole number >= 1');
  }

  get built(): boolean {
    return this.Ws.length > 0;
  }

  protected buildLayers(D: number, rng: Rng): void {
    const sizes = [D, ...this.config.hidden, D];
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.Ws.push(seededMatrix(sizes[l], sizes[l + 1], glorotLimit(sizes[l], sizes[l + 1]), rng, uniqueName(`made_W${l}`)));
      this.bs.push(tf.variable(tf.zeros([sizes[l + 1]]), true, uniqueName(`made_b${l}`)));
    }
    for (let k = 0; k < this.config.masks; k++) {
      // the first set keeps the natural order; later ones resample order and/or connectivity
      const m = madeMasks(D, this.config.hidden, rng, k > 0 && this.config.resampleOrder);
      this.maskSets.push({ order: m.order, layers: m.layers.map((mask, l) => tf.tensor2d(mask, [sizes[l], sizes[l + 1]])) });
    }
  }

  override order(): Int32Array {
    return this.maskSets[this.current].order;
  }

  /** logits under mask set `k` (default: the current one) */
  logitsWith(x: tf.Tensor2D, k: number): tf.Tensor2D {
    return tf.tidy(() => {
      const masks = this.maskSets[k].layers;
      let h: tf.Tensor2D = x;
      this.Ws.forEach((W, l) => {
        h = tf.add(tf.matMul(h, tf.mul(W, masks[l]) as tf.Tensor2D), this.bs[l]) as tf.Tensor2D;
        if (l + 1 < this.Ws.length) h = tf.relu(h);
      });
      return h;
    });
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return this.logitsWith(x, this.current);
  }

  override trainStep(x: tf.Tensor2D, step: number, ctx: StepContext): StepMetrics {
    this.current = step % this.config.masks;
    try {
      return super.trainStep(x, step, ctx);
    } finally {
      this.current = 0;
    }
  }

  /** with several masks: -log mean_k p_k(x), the ensemble's exact NLL */
  override nll(x: tf.Tensor2D): tf.Tensor1D {
    if (this.config.masks === 1) return super.nll(x);
    return tf.tidy(() => {
      const logps = this.maskSets.map((_, k) => {
        const l = this.logitsWith(x, k);
        return tf.neg(tf.sum(tf.sub(tf.softplus(l), tf.mul(x, l)), 1));
      });
      const stacked = tf.stack(logps, 1);
      return tf.neg(tf.sub(tf.logSumExp(stacked, 1), Math.log(this.config.masks))) as tf.Tensor1D;
    });
  }

  protected vars(): tf.Variable[] {
    return [...this.Ws, ...this.bs];
  }

  getWeights(): NamedWeight[] {
    return [...this.Ws.map((W, l) => ({ name: `made/W${l}`, tensor: W })), ...this.bs.map((b, l) => ({ name: `made/b${l}`, tensor: b }))];
  }

  setWeights(weights: NamedWeight[]): void {
    loadNamed(weights, Object.fromEntries([...this.Ws.map((W, l) => [`made/W${l}`, W]), ...this.bs.map((b, l) => [`made/b${l}`, b])]));
  }

  protected disposeLayers(): void {
    tf.dispose([...this.Ws, ...this.bs, ...this.maskSets.flatMap((m) => m.layers)]);
  }
}
