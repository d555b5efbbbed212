// PixelCNN (van den Oord et al. 2016) on binary images: masked convolutions make
// every output pixel a function of the pixels above it and to its left only. The
// first layer is type A (its mask excludes the centre pixel itself), later layers
// type B (they include the centre, which by then carries only earlier pixels).
// Output: one Bernoulli logit per pixel; the log-likelihood is exact.
// (Single-channel images: the R -> G -> B order inside a pixel and the gated variant
// without the blind spot are not built yet.)
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';
import { BinaryAutoregressive, loadNamed, uniqueName } from './autoregressive';
import type { DataInfo, NamedWeight } from './types';

export interface PixelCnnConfig {
  /** feature maps of every hidden layer (default 32) */
  filters?: number;
  /** 3x3 type-B layers after the 7x7 type-A one (default 4) */
  layers?: number;
  /** size of the first (type A) kernel (default 7) */
  firstKernel?: number;
}

/** [k, k, cin, cout] mask: 1 above the centre row, and left of (A) or up to (B) the centre in its row */
export function pixelMask(k: number, cin: number, cout: number, type: 'A' | 'B'): tf.Tensor4D {
  const m = new Float32Array(k * k * cin * cout);
  const c = Math.floor(k / 2);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const on = i < c || (i === c && (type === 'A' ? j < c : j <= c));
      if (on) m.fill(1, (i * k + j) * cin * cout, (i * k + j + 1) * cin * cout);
    }
  }
  return tf.tensor4d(m, [k, k, cin, cout]);
}

interface ConvLayer {
  W: tf.Variable;
  b: tf.Variable;
  mask: tf.Tensor4D | null;
}

export class PixelCnn extends BinaryAutoregressive {
  readonly family = 'pixelcnn';
  readonly config: { filters: number; layers: number; firstKernel: number };
  private convs: ConvLayer[] = [];
  private H = 0;
  private W = 0;

  constructor(cfg: PixelCnnConfig = {}) {
    super();
    this.config = { filters: cfg.filters ?? 32, layers: cfg.layers ?? 4, firstKernel: cfg.firstKernel ?? 7 };
    const { filters, layers, firstKernel } = this.config;
    if (!Number.isInteger(filters) || filters < 1) throw new Error('pixelcnn: filters must be a whole number >= 1');
    if (!Number.isInteger(layers) || layers < 0) throw new Error('pixelcnn: layers must be a whole number >= 0');
    if (!Number.isInteger(firstKernel) || firstKernel < 3 || firstKernel % 2 === 0) throw new Error('pixelcnn: firstKernel must be odd and >= 3');
  }

  get built(): boolean {
    return this.convs.length > 0;
  }

  override build(data: DataInfo, rng: Rng): void {
    if (data.kind !== 'image' || data.shape.length < 2 || (data.shape[2] ?? 1) !== 1) {
      throw new Error('pixelcnn models single-channel images (e.g. lab.data.mnist()); it needs an H x W shape');
    }
    [this.H, this.W] = data.shape;
    super.build(data, rng);
  }

  private conv(k: number, cin: number, cout: number, rng: Rng, type: 'A' | 'B' | null): ConvLayer {
    const limit = Math.sqrt(6 / (k * k * (cin + cout)));
    const w = new Float32Array(k * k * cin * cout).map(() => (2 * rng.next() - 1) * limit);
    return {
      W: tf.variable(tf.tensor4d(w, [k, k, cin, cout]), true, uniqueName('pixelcnn_W')),
      b: tf.variable(tf.zeros([cout]), true, uniqueName('pixelcnn_b')),
      mask: type ? pixelMask(k, cin, cout, type) : null,
    };
  }

  protected buildLayers(_D: number, rng: Rng): void {
    const { filters: F, layers, firstKernel } = this.config;
    this.convs.push(this.conv(firstKernel, 1, F, rng, 'A'));
    for (let l = 0; l < layers; l++) this.convs.push(this.conv(3, F, F, rng, 'B'));
    // 1x1 convolutions see only their own pixel: no mask needed
    this.convs.push(this.conv(1, F, F, rng, null), this.conv(1, F, 1, rng, null));
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const B = x.shape[0];
      let h: tf.Tensor4D = tf.reshape(x, [B, this.H, this.W, 1]);
      this.convs.forEach(({ W, b, mask }, l) => {
        const w = mask ? (tf.mul(W, mask) as tf.Tensor4D) : (W as tf.Tensor4D);
        h = tf.add(tf.conv2d(h, w, 1, 'same'), b) as tf.Tensor4D;
        if (l + 1 < this.convs.length) h = tf.relu(h);
      });
      return tf.reshape(h, [B, this.H * this.W]) as tf.Tensor2D;
    });
  }

  protected vars(): tf.Variable[] {
    return this.convs.flatMap(({ W, b }) => [W, b]);
  }

  getWeights(): NamedWeight[] {
    return this.convs.flatMap(({ W, b }, l) => [{ name: `pixelcnn/W${l}`, tensor: W }, { name: `pixelcnn/b${l}`, tensor: b }]);
  }

  setWeights(weights: NamedWeight[]): void {
    loadNamed(weights, Object.fromEntries(this.convs.flatMap(({ W, b }, l) => [[`pixelcnn/W${l}`, W], [`pixelcnn/b${l}`, b]])));
  }

  protected disposeLayers(): void {
    tf.dispose(this.convs.flatMap(({ W, b, mask }) => (mask ? [W, b, mask] : [W, b])));
  }
}
