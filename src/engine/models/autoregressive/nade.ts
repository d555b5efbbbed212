// NADE (Larochelle & Murray): p(x_i = 1 | x_<i) = s(b_i + V_i . h_i) with
// h_i = s(c + W_<i x_<i). The hidden layer's weights are shared across positions, so
// all D pre-activations are one exclusive running sum over the inputs: O(D H) per
// example instead of the O(D^2 H) of D separate networks.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import { BinaryAutoregressive } from './chain-rule';
import { loadNamed, uniqueName } from '../../nn/params';
import { glorotLimit, seededMatrix } from '../../nn/init';
import type { NamedWeight } from '../types';

/** the divisor of n nearest its square root (from below) */
function blockSize(n: number): number {
  for (let k = Math.floor(Math.sqrt(n)); k > 1; k--) if (n % k === 0) return k;
  return 1;
}

/** [n, n] with ones strictly below the diagonal: (L v)_i = sum_{j<i} v_j */
function strictlyLower(n: number): tf.Tensor2D {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) m[i * n + j] = 1;
  return tf.tensor2d(m, [n, n]);
}

/**
 * y_i = sum_{j<i} x_j along axis 0 of [D, N], as matrix products in two levels: within
 * blocks of K rows (a K x K triangular product per block) plus the running total of the
 * blocks before (an R x R triangular product of the block sums), D = R K. About D(K + R)N
 * multiply-adds, on the fast matmul, with gradients for free (tfjs's Cumsum is slow
 * along axis 0 on wasm, and its gradient is wrong along any axis but the last).
 */
export function exclusiveCumsumRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [D, N] = x.shape;
    const K = blockSize(D), R = D / K;
    const blocks = tf.reshape(x, [R, K, N]);
    const within = tf.matMul(tf.tile(tf.reshape(strictlyLower(K), [1, K, K]), [R, 1, 1]), blocks); // [R, K, N]
    // block sums and their broadcast back over each block's rows as products with ones
    // (reductions over a middle axis are slow on wasm; products are not)
    const sums = tf.matMul(tf.ones([R, 1, K]), blocks); // [R, 1, N]
    const before = tf.matMul(strictlyLower(R), tf.reshape(sums, [R, N])); // [R, N]: the blocks before each block
    const spread = tf.matMul(tf.ones([R, K, 1]), tf.reshape(before, [R, 1, N])); // [R, K, N]
    return tf.reshape(tf.add(within, spread), [D, N]) as tf.Tensor2D;
  });
}

/**
 * Floats of one [D, rows, H] activation per evaluation chunk (16M: 64 MB; the forward
 * pass holds about four at once). A chunk sized by rows alone outgrows the wasm heap
 * at the published width: 500 rows at H = 500 are 784 MB per activation, 3 GB at the
 * peak, which grew the heap to 3.2-3.8 GB of its 4 GB at step 0; once training steps
 * had cut that heap into pieces, the next 784 MB block could only come from growing
 * it past 4 GB, and the run died in the wasm code (see wasm-heap.ts's guard).
 */
const EVAL_CHUNK_FLOATS = 1 << 24;

export type NadeConfig = LatentLab.NadeConfig;

export class Nade extends BinaryAutoregressive {
  readonly family = 'nade';
  readonly config: { hidden: number };
  private W: tf.Variable | null = null; // [D, H]: row j is input j's contribution
  private c: tf.Variable | null = null;
  private V: tf.Variable | null = null; // [D, H]: row i reads position i's hidden state
  private b: tf.Variable | null = null;

  constructor(cfg: NadeConfig = {}) {
    super();
    this.config = { hidden: cfg.hidden ?? 100 };
    if (!Number.isInteger(this.config.hidden) || this.config.hidden < 1) throw new Error('nade: hidden must be a whole number >= 1');
  }

  get built(): boolean {
    return this.W !== null;
  }

  protected buildLayers(D: number, rng: Rng): void {
    const H = this.config.hidden;
    this.W = seededMatrix(D, H, glorotLimit(D, H), rng, uniqueName('nade_W'));
    this.c = tf.tidy(() => tf.variable(tf.zeros([H]), true, uniqueName('nade_c')));
    this.V = seededMatrix(D, H, glorotLimit(D, H), rng, uniqueName('nade_V'));
    this.b = tf.tidy(() => tf.variable(tf.zeros([D]), true, uniqueName('nade_b')));
    // rows per evaluation chunk: each row holds D H floats in every activation
    this.evalChunk = Math.max(1, Math.min(this.evalChunk, Math.floor(EVAL_CHUNK_FLOATS / (D * H))));
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, D] = x.shape;
      const H = this.config.hidden;
      // position-major [D, B, H]: every per-position reduction is a batched matrix
      // product (fast, with fast gradients) and the running sum runs along axis 0
      const xt = tf.reshape(tf.transpose(x), [D, B, 1]);
      // contributions x_j W_j (an outer product per position), summed over j < i for position i
      const contrib = tf.matMul(xt, tf.reshape(this.W!, [D, 1, H]));
      const pre = tf.reshape(exclusiveCumsumRows(tf.reshape(contrib, [D, B * H])), [D, B, H]);
      const h = tf.sigmoid(tf.add(pre, this.c!));
      const out = tf.matMul(h, tf.reshape(this.V!, [D, H, 1])); // [D, B, 1]
      return tf.add(tf.transpose(tf.reshape(out, [D, B])), this.b!) as tf.Tensor2D;
    });
  }

  /**
   * Ancestral sampling without D full passes: the hidden pre-activation is a running
   * sum, a += W_i x_i after each pixel, so each position costs O(H) per sample.
   */
  override async sample(n: number, noise?: tf.Tensor2D, seed = 0, onStep?: (i: number, x: Float32Array) => void): Promise<tf.Tensor2D> {
    const u = await this.uniforms(n, noise, seed);
    const D = this.D, H = this.config.hidden;
    const [W, V, c, b] = (await Promise.all([this.W!.data(), this.V!.data(), this.c!.data(), this.b!.data()])) as Float32Array[];
    const x = new Float32Array(n * D);
    const a = new Float64Array(n * H);
    for (let r = 0; r < n; r++) a.set(c, r * H);
    for (let i = 0; i < D; i++) {
      for (let r = 0; r < n; r++) {
        let l = b[i];
        for (let h = 0; h < H; h++) l += V[i * H + h] / (1 + Math.exp(-a[r * H + h]));
        const bit = u[r * D + i] < 1 / (1 + Math.exp(-l)) ? 1 : 0;
        x[r * D + i] = bit;
        if (bit) for (let h = 0; h < H; h++) a[r * H + h] += W[i * H + h];
      }
      onStep?.(i, x);
    }
    return tf.tensor2d(x, [n, D]);
  }

  protected vars(): tf.Variable[] {
    return [this.W!, this.c!, this.V!, this.b!];
  }

  getWeights(): NamedWeight[] {
    return [
      { name: 'nade/W', tensor: this.W! },
      { name: 'nade/c', tensor: this.c! },
      { name: 'nade/V', tensor: this.V! },
      { name: 'nade/b', tensor: this.b! },
    ];
  }

  setWeights(weights: NamedWeight[]): void {
    loadNamed(weights, { 'nade/W': this.W!, 'nade/c': this.c!, 'nade/V': this.V!, 'nade/b': this.b! });
  }

  protected disposeLayers(): void {
    for (const t of [this.W, this.c, this.V, this.b]) t?.dispose();
  }
}
