// A character-level language model over the text vocabulary, in one of two forms:
//  - 'attention': a small decoder-only transformer (pre-LayerNorm blocks of causal
//    multi-head self-attention and an MLP, learned positions). The causal mask adds
//    -1e9 to every score of a later position, so its softmax weight is exactly 0.
//  - 'gru': a one-layer GRU read left to right.
// Both read the sequence shifted one step later with a start symbol in front, so
// the logits at t are those of p(x_t | x_<t) and log p(x) is exact by the chain rule.
import * as tf from '@tensorflow/tfjs';
import { decodeText, encodeText } from '../../data/text';
import { uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { loadNamed, uniqueName } from '../../nn/params';
import { glorotLimit, seededMatrix } from '../../nn/init';
import { CategoricalSequence, dense3 } from './sequence';
import type { NamedWeight } from '../types';

export type CharLmConfig = LatentLab.CharLmConfig;

export class CharLm extends CategoricalSequence {
  readonly family = 'charlm';
  readonly config: { kind: 'attention' | 'gru'; dim: number; layers: number; heads: number };
  private v: Record<string, tf.Variable> = {};
  private mask: tf.Tensor2D | null = null;

  constructor(cfg: CharLmConfig = {}) {
    super();
    this.config = { kind: cfg.kind ?? 'attention', dim: cfg.dim ?? 128, layers: cfg.layers ?? 2, heads: cfg.heads ?? 4 };
    const { kind, dim, layers, heads } = this.config;
    if (kind !== 'attention' && kind !== 'gru') throw new Error(`charlm: kind must be 'attention' or 'gru' (got ${String(kind)})`);
    for (const [k, val] of Object.entries({ dim, layers, heads })) {
      if (!Number.isInteger(val) || val < 1) throw new Error(`charlm: ${k} must be a whole number >= 1 (got ${String(val)})`);
    }
    if (kind === 'attention' && dim % heads !== 0) throw new Error(`charlm: heads (${heads}) must divide dim (${dim})`);
    this.evalChunk = kind === 'gru' ? 250 : 50;
  }

  get built(): boolean {
    return Object.keys(this.v).length > 0;
  }

  context(): number {
    return Infinity;
  }

  protected buildLayers(T: number, K: number, rng: Rng): void {
    const { kind, dim: C, layers } = this.config;
    const mat = (r: number, c: number, name: string, scale = 1) => seededMatrix(r, c, scale * glorotLimit(r, c), rng, uniqueName(`charlm_${name}`));
    const vec = (n: number, name: string, value = 0) => tf.variable(tf.fill([n], value), true, uniqueName(`charlm_${name}`));
    // K + 1 embedding rows: the last is the start symbol
    const v: Record<string, tf.Variable> = { embed: mat(K + 1, C, 'embed'), out: mat(C, K, 'out'), bOut: vec(K, 'b_out') };
    if (kind === 'attention') {
      v.pos = seededMatrix(T, C, 0.1, rng, uniqueName('charlm_pos'));
      for (let l = 0; l < layers; l++) {
        Object.assign(v, {
          [`ln1g${l}`]: vec(C, `ln1g${l}`, 1), [`ln1b${l}`]: vec(C, `ln1b${l}`),
          [`qkv${l}`]: mat(C, 3 * C, `qkv${l}`),
          [`proj${l}`]: mat(C, C, `proj${l}`, 0.5),
          [`ln2g${l}`]: vec(C, `ln2g${l}`, 1), [`ln2b${l}`]: vec(C, `ln2b${l}`),
          [`fc${l}`]: mat(C, 4 * C, `fc${l}`), [`bfc${l}`]: vec(4 * C, `bfc${l}`),
          [`fc2${l}`]: mat(4 * C, C, `fc2${l}`, 0.5), [`bfc2${l}`]: vec(C, `bfc2${l}`),
        });
      }
      Object.assign(v, { lnfg: vec(C, 'lnfg', 1), lnfb: vec(C, 'lnfb') });
      const m = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
      this.mask = tf.tensor2d(m, [T, T]);
    } else {
      Object.assign(v, { wx: mat(C, 3 * C, 'wx'), uzr: mat(C, 2 * C, 'uzr'), un: mat(C, C, 'un'), bx: vec(3 * C, 'bx') });
    }
    this.v = v;
  }

  /** the embedded input: position 0 the start symbol, position t the symbol x_{t-1} */
  private embedShifted(oh: tf.Tensor3D): tf.Tensor3D {
    const [B, T, K] = oh.shape;
    const start = tf.concat([tf.zeros([B, 1, K]), tf.ones([B, 1, 1])], 2);
    const rest = tf.concat([tf.slice(oh, [0, 0, 0], [B, T - 1, K]), tf.zeros([B, T - 1, 1])], 2);
    return dense3(tf.concat([start, rest], 1) as tf.Tensor3D, this.v.embed as tf.Tensor2D);
  }

  logitsFromOneHot(oh: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.embedShifted(oh);
      const top = this.config.kind === 'attention' ? this.transformer(h) : this.gru(h);
      return dense3(top, this.v.out as tf.Tensor2D, this.v.bOut as tf.Tensor1D);
    });
  }

  private layerNorm(h: tf.Tensor3D, g: tf.Variable, b: tf.Variable): tf.Tensor3D {
    const { mean, variance } = tf.moments(h, 2, true);
    return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b) as tf.Tensor3D;
  }

  private transformer(x: tf.Tensor3D): tf.Tensor3D {
    const [B, T, C] = x.shape;
    const H = this.config.heads;
    const dh = C / H;
    const v = this.v;
    let h = tf.add(x, tf.slice(v.pos, [0, 0], [T, C])) as tf.Tensor3D;
    const mask = tf.slice(this.mask!, [0, 0], [T, T]);
    const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]), [B * H, T, dh]) as tf.Tensor3D;
    for (let l = 0; l < this.config.layers; l++) {
      const qkv = dense3(this.layerNorm(h, v[`ln1g${l}`], v[`ln1b${l}`]), v[`qkv${l}`] as tf.Tensor2D);
      const [q, k, val] = tf.split(qkv, 3, 2).map(heads);
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask);
      const att = tf.matMul(tf.softmax(scores), val); // [B*H, T, dh]
      const merged = tf.reshape(tf.transpose(tf.reshape(att, [B, H, T, dh]), [0, 2, 1, 3]), [B, T, C]) as tf.Tensor3D;
      h = tf.add(h, dense3(merged, v[`proj${l}`] as tf.Tensor2D));
      const m = tf.relu(dense3(this.layerNorm(h, v[`ln2g${l}`], v[`ln2b${l}`]), v[`fc${l}`] as tf.Tensor2D, v[`bfc${l}`] as tf.Tensor1D));
      h = tf.add(h, dense3(m, v[`fc2${l}`] as tf.Tensor2D, v[`bfc2${l}`] as tf.Tensor1D));
    }
    return this.layerNorm(h, v.lnfg, v.lnfb);
  }

  private gru(x: tf.Tensor3D): tf.Tensor3D {
    const [B, T, C] = x.shape;
    const v = this.v;
    const xs = dense3(x, v.wx as tf.Tensor2D, v.bx as tf.Tensor1D); // [B, T, 3C]: z, r, n input parts
    let h: tf.Tensor2D = tf.zeros([B, C]);
    const outs: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      const xt = tf.reshape(tf.slice(xs, [0, t, 0], [B, 1, 3 * C]), [B, 3 * C]);
      const [xz, xr, xn] = tf.split(xt, 3, 1);
      const [hz, hr] = tf.split(tf.matMul(h, v.uzr as tf.Tensor2D), 2, 1);
      const z = tf.sigmoid(tf.add(xz, hz));
      const r = tf.sigmoid(tf.add(xr, hr));
      const n = tf.tanh(tf.add(xn, tf.matMul(tf.mul(r, h), v.un as tf.Tensor2D)));
      h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as tf.Tensor2D;
      outs.push(h);
    }
    return tf.stack(outs, 1) as tf.Tensor3D;
  }

  /**
   * `n` continuations of `prompt` to `length` characters in all (prompt included),
   * drawn with `seed` at `temperature`; also what the notebook's completion view shows.
   */
  async complete(prompt: string, opts: { n?: number; length?: number; seed?: number; temperature?: number } = {}): Promise<string[]> {
    if (!this.built) throw new Error('charlm: train the model (or load a checkpoint) before completing a prompt');
    const n = Math.max(1, Math.floor(opts.n ?? 4));
    const codes = encodeText(prompt);
    const total = Math.max(codes.length + 1, Math.floor(opts.length ?? this.T));
    const temperature = opts.temperature ?? 1;
    if (!(temperature > 0)) throw new Error('charlm: temperature must be > 0');
    const prefix = new Float32Array(n * codes.length);
    for (let r = 0; r < n; r++) prefix.set(codes, r * codes.length);
    // the values uniform([n, total], seed) holds
    const u = uniformValues(opts.seed ?? 0, n * total);
    const saved = this.temperature;
    this.temperature = temperature;
    try {
      const x = await this.generate(prefix, codes.length, n, total, (r, t) => u[r * total + t]);
      return Array.from({ length: n }, (_, r) => decodeText(x.subarray(r * total, (r + 1) * total)));
    } finally {
      this.temperature = saved;
    }
  }

  protected vars(): tf.Variable[] {
    return Object.values(this.v);
  }

  getWeights(): NamedWeight[] {
    return Object.entries(this.v).map(([name, tensor]) => ({ name, tensor }));
  }

  setWeights(weights: NamedWeight[]): void {
    loadNamed(weights, this.v);
  }

  protected disposeLayers(): void {
    tf.dispose(Object.values(this.v));
    this.v = {};
    this.mask?.dispose();
    this.mask = null;
  }
}
