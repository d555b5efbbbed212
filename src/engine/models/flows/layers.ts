// Flow layers: invertible maps with a tractable log-determinant, composed by
// FlowModel. `forward` goes from data towards the prior (x -> z, the density
// direction) and returns log|det dz/dx| per row; `inverse` goes back (sampling).
// Each layer is small, tested on its own (inverse(forward(x)) = x, log-det =
// log|det J| of a brute-force Jacobian), and starts as the identity where it can.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import { madeMasks } from '../autoregressive/made';
import { uniqueName } from '../../nn/params';
import { glorotLimit, seededMatrix, uniformValues } from '../../nn/init';
import type { NamedWeight } from '../types';

export interface FlowLayer {
  readonly kind: string;
  /** data-dependent initialization from the first batch that reaches the layer (ActNorm) */
  init?(x: tf.Tensor2D): void;
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D };
  /**
   * x from y, a new tensor (y is kept; nothing else is left behind). Async where the
   * layer reads values back to solve it (MAF's D passes, Glow's float64 matrix inverse).
   */
  inverse(y: tf.Tensor2D): tf.Tensor2D | Promise<tf.Tensor2D>;
  vars(): tf.Variable[];
  named(prefix: string): NamedWeight[];
  dispose(): void;
}

/** `y` through the inverses of `layers`, the last first; each intermediate is disposed once used (`y` is kept) */
export async function inverseThrough(layers: FlowLayer[], y: tf.Tensor2D): Promise<tf.Tensor2D> {
  let h = y;
  for (let k = layers.length - 1; k >= 0; k--) {
    let next: tf.Tensor2D;
    try {
      next = await layers[k].inverse(h);
    } catch (e) {
      if (h !== y) h.dispose();
      throw e;
    }
    if (h !== y && h !== next) h.dispose();
    h = next;
  }
  return h;
}

/** What computes a coupling's shift (and log-scale) from the units that pass through: [B, D] -> [B, k D]. */
interface Net {
  apply(x: tf.Tensor2D): tf.Tensor2D;
  vars(): tf.Variable[];
  named(prefix: string): NamedWeight[];
  dispose(): void;
}

/**
 * A convolutional conditioner on an [H, W, C] image: 3x3 'same' convolutions with relu
 * between, the last one starting at zero. Its output channels are k blocks of C (the
 * log-scales, then the shifts), returned as k flat blocks of D, as the MLP returns them.
 */
class ConvConditioner implements Net {
  readonly Ws: tf.Variable[] = [];
  readonly bs: tf.Variable[] = [];
  constructor(readonly shape: [number, number, number], channels: number[], readonly k: number, rng: Rng, name: string) {
    const C = shape[2];
    const sizes = [C, ...channels, k * C];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const last = l + 2 === sizes.length;
      const n = 9 * sizes[l] * sizes[l + 1];
      const w = last ? new Float32Array(n) : uniformValues(n, glorotLimit(9 * sizes[l], 9 * sizes[l + 1]), rng);
      this.Ws.push(tf.variable(tf.tensor4d(w, [3, 3, sizes[l], sizes[l + 1]]), true, uniqueName(`${name}_conv${l}`)));
      this.bs.push(tf.variable(tf.zeros([sizes[l + 1]]), true, uniqueName(`${name}_convb${l}`)));
    }
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const [H, W, C] = this.shape;
    const B = x.shape[0];
    let h: tf.Tensor4D = tf.reshape(x, [B, H, W, C]);
    this.Ws.forEach((w, l) => {
      h = tf.add(tf.conv2d(h, w as tf.Tensor4D, 1, 'same'), this.bs[l]) as tf.Tensor4D;
      if (l + 1 < this.Ws.length) h = tf.relu(h);
    });
    const blocks = tf.split(h, this.k, 3).map((b) => tf.reshape(b, [B, H * W * C]));
    return (blocks.length === 1 ? blocks[0] : tf.concat(blocks, 1)) as tf.Tensor2D;
  }
  vars(): tf.Variable[] {
    return [...this.Ws, ...this.bs];
  }
  named(prefix: string): NamedWeight[] {
    return [...this.Ws.map((W, l) => ({ name: `${prefix}/conv${l}`, tensor: W })), ...this.bs.map((b, l) => ({ name: `${prefix}/convb${l}`, tensor: b }))];
  }
  dispose(): void {
    tf.dispose([...this.Ws, ...this.bs]);
  }
}

/** A small MLP conditioner whose last layer starts at zero (so couplings start as the identity). */
class Conditioner implements Net {
  readonly Ws: tf.Variable[] = [];
  readonly bs: tf.Variable[] = [];
  constructor(sizes: number[], rng: Rng, name: string, readonly masks: tf.Tensor2D[] | null = null) {
    for (let l = 0; l + 1 < sizes.length; l++) {
      const last = l + 2 === sizes.length;
      this.Ws.push(last ? tf.variable(tf.zeros([sizes[l], sizes[l + 1]]), true, uniqueName(`${name}_W${l}`)) : seededMatrix(sizes[l], sizes[l + 1], glorotLimit(sizes[l], sizes[l + 1]), rng, uniqueName(`${name}_W${l}`)));
      this.bs.push(tf.variable(tf.zeros([sizes[l + 1]]), true, uniqueName(`${name}_b${l}`)));
    }
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    this.Ws.forEach((W, l) => {
      const w = this.masks ? (tf.mul(W, this.masks[l]) as tf.Tensor2D) : (W as tf.Tensor2D);
      h = tf.add(tf.matMul(h, w), this.bs[l]) as tf.Tensor2D;
      if (l + 1 < this.Ws.length) h = tf.relu(h);
    });
    return h;
  }
  vars(): tf.Variable[] {
    return [...this.Ws, ...this.bs];
  }
  named(prefix: string): NamedWeight[] {
    return [...this.Ws.map((W, l) => ({ name: `${prefix}/W${l}`, tensor: W })), ...this.bs.map((b, l) => ({ name: `${prefix}/b${l}`, tensor: b }))];
  }
  dispose(): void {
    tf.dispose([...this.Ws, ...this.bs, ...(this.masks ?? [])]);
  }
}

/**
 * Coupling: the units where `mask` is 1 pass through and condition the others,
 * through an MLP or (given the image shape) a small convolutional network.
 * additive (NICE): y = x + (1 - m) * t(m * x), log-det 0;
 * affine (RealNVP): y = m * x + (1 - m) * (x * exp(s) + t), log-det sum (1 - m) * s,
 * with s = tanh(raw) * scale (bounded, learned scale) for stable training.
 */
export class Coupling implements FlowLayer {
  readonly kind: string;
  private readonly net: Net;
  private readonly m: tf.Tensor1D;
  private readonly inv: tf.Tensor1D;
  private readonly scale: tf.Variable | null;

  /** `image`: the data's [H, W, C] shape, for a convolutional conditioner (`hidden` are then its channels) */
  constructor(readonly mask: Float32Array, hidden: number[], readonly type: 'additive' | 'affine', rng: Rng, image?: [number, number, number]) {
    this.kind = `${type}-coupling${image ? ' (conv)' : ''}`;
    const D = mask.length;
    this.m = tf.tensor1d(mask);
    this.inv = tf.tensor1d(mask.map((v) => 1 - v));
    const k = type === 'affine' ? 2 : 1;
    if (image && image[0] * image[1] * image[2] !== D) throw new Error(`coupling: an image of ${image.join(' x ')} does not have ${D} units`);
    this.net = image ? new ConvConditioner(image, hidden, k, rng, `coupling_${type}`) : new Conditioner([D, ...hidden, k * D], rng, `coupling_${type}`);
    this.scale = type === 'affine' ? tf.variable(tf.ones([D]), true, uniqueName('coupling_scale')) : null;
  }

  private st(x: tf.Tensor2D): { s: tf.Tensor2D | null; t: tf.Tensor2D } {
    const D = this.mask.length;
    const out = this.net.apply(tf.mul(x, this.m) as tf.Tensor2D);
    if (this.type === 'additive') return { s: null, t: tf.mul(out, this.inv) as tf.Tensor2D };
    const raw = tf.slice(out, [0, 0], [-1, D]) as tf.Tensor2D;
    const t = tf.slice(out, [0, D], [-1, D]) as tf.Tensor2D;
    return { s: tf.mul(tf.mul(tf.tanh(raw), this.scale!), this.inv) as tf.Tensor2D, t: tf.mul(t, this.inv) as tf.Tensor2D };
  }

  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    const { s, t } = this.st(x);
    if (!s) return { y: tf.add(x, t) as tf.Tensor2D, logdet: tf.zeros([x.shape[0]]) as tf.Tensor1D };
    return { y: tf.add(tf.mul(x, tf.exp(s)), t) as tf.Tensor2D, logdet: tf.sum(s, 1) as tf.Tensor1D };
  }

  inverse(y: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      // the conditioned units of y equal those of x, so s and t can be recomputed from y
      const { s, t } = this.st(y);
      const d = tf.sub(y, t) as tf.Tensor2D;
      return s ? (tf.mul(d, tf.exp(tf.neg(s))) as tf.Tensor2D) : d;
    });
  }

  vars(): tf.Variable[] {
    return [...this.net.vars(), ...(this.scale ? [this.scale] : [])];
  }

  named(prefix: string): NamedWeight[] {
    return [...this.net.named(`${prefix}/net`), ...(this.scale ? [{ name: `${prefix}/scale`, tensor: this.scale }] : [])];
  }

  dispose(): void {
    this.net.dispose();
    tf.dispose([this.m, this.inv, ...(this.scale ? [this.scale] : [])]);
  }
}

/**
 * ActNorm (Glow): a per-unit affine map y = (x + b) * exp(s), log-det sum s, whose
 * b and s are set from the first batch so that each unit starts at mean 0 and
 * variance 1. On dequantized images this alone captures the narrow units (always-black
 * pixels span 1/256) that a flow would otherwise take thousands of steps to squeeze.
 */
export class ActNorm implements FlowLayer {
  readonly kind = 'actnorm';
  private readonly b: tf.Variable;
  private readonly s: tf.Variable;
  constructor(D: number) {
    this.b = tf.variable(tf.zeros([D]), true, uniqueName('actnorm_b'));
    this.s = tf.variable(tf.zeros([D]), true, uniqueName('actnorm_s'));
  }
  init(x: tf.Tensor2D): void {
    tf.tidy(() => {
      const { mean, variance } = tf.moments(x, 0);
      this.b.assign(tf.neg(mean));
      this.s.assign(tf.neg(tf.log(tf.add(tf.sqrt(variance), 1e-6))));
    });
  }
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    return { y: tf.mul(tf.add(x, this.b), tf.exp(this.s)) as tf.Tensor2D, logdet: tf.mul(tf.ones([x.shape[0]]), tf.sum(this.s)) as tf.Tensor1D };
  }
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sub(tf.mul(y, tf.exp(tf.neg(this.s))), this.b) as tf.Tensor2D);
  }
  vars(): tf.Variable[] {
    return [this.b, this.s];
  }
  named(prefix: string): NamedWeight[] {
    return [{ name: `${prefix}/b`, tensor: this.b }, { name: `${prefix}/s`, tensor: this.s }];
  }
  dispose(): void {
    tf.dispose([this.b, this.s]);
  }
}

/** NICE's last layer: y = x * exp(s), log-det sum s. */
export class DiagScale implements FlowLayer {
  readonly kind = 'scale';
  private readonly s: tf.Variable;
  constructor(D: number) {
    this.s = tf.variable(tf.zeros([D]), true, uniqueName('flow_scale'));
  }
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    return { y: tf.mul(x, tf.exp(this.s)) as tf.Tensor2D, logdet: tf.mul(tf.ones([x.shape[0]]), tf.sum(this.s)) as tf.Tensor1D };
  }
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.mul(y, tf.exp(tf.neg(this.s))) as tf.Tensor2D);
  }
  vars(): tf.Variable[] {
    return [this.s];
  }
  named(prefix: string): NamedWeight[] {
    return [{ name: `${prefix}/s`, tensor: this.s }];
  }
  dispose(): void {
    this.s.dispose();
  }
}

/**
 * A fixed permutation of the units (log-det 0): MAF reverses the order between layers.
 * A reversal is tf.reverse; any other permutation a product with its 0/1 matrix
 * (exact, and differentiable on every backend: gather's gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks).
 */
export class Permute implements FlowLayer {
  readonly kind = 'permute';
  private readonly isReversal: boolean;
  private readonly P: tf.Tensor2D | null;
  constructor(readonly perm: Int32Array) {
    const D = perm.length;
    this.isReversal = perm.every((p, i) => p === D - 1 - i);
    if (this.isReversal) this.P = null;
    else {
      // y = x P with P[perm[i], i] = 1, i.e. y_i = x_perm[i]
      const m = new Float32Array(D * D);
      perm.forEach((p, i) => (m[p * D + i] = 1));
      this.P = tf.tensor2d(m, [D, D]);
    }
  }
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    const y = this.isReversal ? (tf.reverse(x, 1) as tf.Tensor2D) : (tf.matMul(x, this.P!) as tf.Tensor2D);
    return { y, logdet: tf.zeros([x.shape[0]]) as tf.Tensor1D };
  }
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    return this.isReversal ? (tf.reverse(y, 1) as tf.Tensor2D) : (tf.matMul(y, this.P!, false, true) as tf.Tensor2D);
  }
  vars(): tf.Variable[] {
    return [];
  }
  named(): NamedWeight[] {
    return [];
  }
  dispose(): void {
    this.P?.dispose();
  }
}

/**
 * MAF's layer: (mu, alpha) = MADE(x) in the natural order, z = (x - mu) * exp(-alpha):
 * density in one pass (log-det -sum alpha), sampling in D passes. IAF is the same
 * layer turned around (`reversed`): sampling in one pass, density in D passes.
 */
export class AutoregressiveAffine implements FlowLayer {
  readonly kind: string;
  private readonly net: Conditioner;
  /** the order the units are generated in (data indices) */
  readonly order: Int32Array;
  /**
   * `reverseOrder`: autoregressive from the last unit to the first (stacks alternate
   * orders this way instead of permuting the units between layers).
   */
  constructor(readonly D: number, hidden: number[], rng: Rng, readonly reversed = false, reverseOrder = false) {
    this.kind = reversed ? 'iaf' : 'maf';
    const m = madeMasks(D, hidden, rng, false, reverseOrder ? Int32Array.from({ length: D }, (_, i) => D - 1 - i) : undefined);
    this.order = m.order;
    const sizes = [D, ...hidden, 2 * D];
    // the output mask, once for mu and once for alpha
    const last = m.layers[m.layers.length - 1];
    const H = hidden[hidden.length - 1];
    const out = new Float32Array(H * 2 * D);
    for (let k = 0; k < H; k++) for (let d = 0; d < D; d++) out[k * 2 * D + d] = out[k * 2 * D + D + d] = last[k * D + d];
    const masks = [...m.layers.slice(0, -1), out].map((mask, l) => tf.tensor2d(mask, [sizes[l], sizes[l + 1]]));
    this.net = new Conditioner(sizes, rng, this.kind, masks);
  }

  /** mu and alpha of each position from the units before it (alpha bounded to (-3, 3) for stability) */
  private params(x: tf.Tensor2D): { mu: tf.Tensor2D; alpha: tf.Tensor2D } {
    const out = this.net.apply(x);
    return {
      mu: tf.slice(out, [0, 0], [-1, this.D]) as tf.Tensor2D,
      alpha: tf.mul(3, tf.tanh(tf.div(tf.slice(out, [0, this.D], [-1, this.D]), 3))) as tf.Tensor2D,
    };
  }

  /**
   * Position by position, each output from the outputs before it:
   * out_i = step(in_i, mu_i(out_<i), alpha_i(out_<i)). D passes of the network.
   */
  private async sequential(input: tf.Tensor2D, step: (v: number, mu: number, alpha: number) => number): Promise<tf.Tensor2D> {
    const [B, D] = input.shape;
    const iv = (await input.data()) as Float32Array;
    const out = new Float32Array(B * D);
    for (const i of this.order) {
      // mu_i and alpha_i side by side, [B, 2]: one read per position
      const ma = tf.tidy(() => {
        const p = this.params(tf.tensor2d(out, [B, D]));
        return tf.concat([tf.slice(p.mu, [0, i], [B, 1]), tf.slice(p.alpha, [0, i], [B, 1])], 1);
      });
      let v: Float32Array;
      try {
        v = (await ma.data()) as Float32Array;
      } finally {
        ma.dispose();
      }
      for (let r = 0; r < B; r++) out[r * D + i] = step(iv[r * D + i], v[2 * r], v[2 * r + 1]);
    }
    return tf.tensor2d(out, [B, D]);
  }

  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    if (!this.reversed) {
      // MAF density: z = (x - mu(x_<i)) exp(-alpha(x_<i)), one pass
      const { mu, alpha } = this.params(x);
      return { y: tf.mul(tf.sub(x, mu), tf.exp(tf.neg(alpha))) as tf.Tensor2D, logdet: tf.neg(tf.sum(alpha, 1)) as tf.Tensor1D };
    }
    // IAF density: z_i = (x_i - mu(z_<i)) exp(-alpha(z_<i)), D passes built from tf ops, so
    // training gets the exact gradient through every pass (D network evaluations on the tape)
    const [B, D] = x.shape;
    let z = tf.zeros([B, D]) as tf.Tensor2D;
    let logdet = tf.zeros([B]) as tf.Tensor1D;
    for (const i of this.order) {
      const { mu, alpha } = this.params(z);
      const a = tf.slice(alpha, [0, i], [B, 1]);
      const zi = tf.mul(tf.sub(tf.slice(x, [0, i], [B, 1]), tf.slice(mu, [0, i], [B, 1])), tf.exp(tf.neg(a)));
      const onehot = tf.oneHot(tf.tensor1d([i], 'int32'), D).reshape([1, D]);
      z = tf.add(z, tf.mul(zi, onehot)) as tf.Tensor2D;
      logdet = tf.sub(logdet, tf.reshape(a, [B])) as tf.Tensor1D;
    }
    return { y: z, logdet };
  }

  inverse(z: tf.Tensor2D): tf.Tensor2D | Promise<tf.Tensor2D> {
    if (this.reversed) {
      // IAF sampling: x = z exp(alpha(z_<i)) + mu(z_<i), one pass
      return tf.tidy(() => {
        const { mu, alpha } = this.params(z);
        return tf.add(tf.mul(z, tf.exp(alpha)), mu) as tf.Tensor2D;
      });
    }
    // MAF sampling: x_i = z_i exp(alpha(x_<i)) + mu(x_<i), D passes
    return this.sequential(z, (v, mu, a) => v * Math.exp(a) + mu);
  }

  vars(): tf.Variable[] {
    return this.net.vars();
  }

  named(prefix: string): NamedWeight[] {
    return this.net.named(`${prefix}/made`);
  }

  dispose(): void {
    this.net.dispose();
  }
}
