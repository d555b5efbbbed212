// PixelCNN (van den Oord et al. 2016) on binary images: masked convolutions make
// every output pixel a function of the pixels above it and to its left only. The
// first layer is type A (its mask excludes the centre pixel itself), later layers
// type B (they include the centre, which by then carries only earlier pixels).
// Output: one Bernoulli logit per pixel; the log-likelihood is exact.
// Stacked masked 3x3 convolutions never see pixels up and more than one column to the
// right per row climbed (the blind spot). `gated: true` builds the gated PixelCNN
// instead: a vertical stack (rows above, full kernel width, shifted down one row
// before it feeds anything) and a horizontal stack (the current row, left of the
// pixel), joined with tanh * sigmoid gates and residual connections: no blind spot.
// (Single-channel images: the R -> G -> B order inside a pixel is not built yet.)
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
  /** the gated PixelCNN: vertical + horizontal stacks, gates, no blind spot (default false) */
  gated?: boolean;
}

/** [kh, kw, cin, cout] mask keeping the rows up to and including the centre one (a vertical stack) */
function verticalMask(k: number, cin: number, cout: number): tf.Tensor4D {
  const m = new Float32Array(k * k * cin * cout);
  m.fill(1, 0, (Math.floor(k / 2) + 1) * k * cin * cout);
  return tf.tensor4d(m, [k, k, cin, cout]);
}

/** [1, k, cin, cout] mask keeping the columns left of (A) or up to (B) the centre */
function horizontalMask(k: number, cin: number, cout: number, type: 'A' | 'B'): tf.Tensor4D {
  const m = new Float32Array(k * cin * cout);
  const c = Math.floor(k / 2);
  for (let j = 0; j < k; j++) if (j < c || (type === 'B' && j === c)) m.fill(1, j * cin * cout, (j + 1) * cin * cout);
  return tf.tensor4d(m, [1, k, cin, cout]);
}

/** tanh(a) * sigmoid(b) over the two halves of the channels */
function gate(x: tf.Tensor4D): tf.Tensor4D {
  const [a, b] = tf.split(x, 2, 3);
  return tf.mul(tf.tanh(a), tf.sigmoid(b)) as tf.Tensor4D;
}

interface GatedLayer {
  v: ConvLayer; // k x k over rows <= r
  h: ConvLayer; // 1 x k over the row, left of the pixel (A) or up to it (B)
  vh: ConvLayer; // 1 x 1: the shifted vertical features into the horizontal stack
  out: ConvLayer; // 1 x 1 after the horizontal gate (residual)
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
  readonly config: { filters: number; layers: number; firstKernel: number; gated: boolean };
  private convs: ConvLayer[] = [];
  private gatedLayers: GatedLayer[] = [];
  private H = 0;
  private W = 0;
  // a 500-image pass of the gated stacks would hold ~2 GB of activations: more than wasm's heap
  protected override evalChunk = 50;

  constructor(cfg: PixelCnnConfig = {}) {
    super();
    this.config = { filters: cfg.filters ?? 32, layers: cfg.layers ?? 4, firstKernel: cfg.firstKernel ?? 7, gated: cfg.gated ?? false };
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

  private conv(k: number, cin: number, cout: number, rng: Rng, type: 'A' | 'B' | null, kh = k, mask: tf.Tensor4D | null = type ? pixelMask(k, cin, cout, type) : null): ConvLayer {
    const limit = Math.sqrt(6 / (kh * k * (cin + cout)));
    const w = new Float32Array(kh * k * cin * cout).map(() => (2 * rng.next() - 1) * limit);
    return {
      W: tf.variable(tf.tensor4d(w, [kh, k, cin, cout]), true, uniqueName('pixelcnn_W')),
      b: tf.variable(tf.zeros([cout]), true, uniqueName('pixelcnn_b')),
      mask,
    };
  }

  protected buildLayers(_D: number, rng: Rng): void {
    const { filters: F, layers, firstKernel } = this.config;
    if (this.config.gated) {
      for (let l = 0; l <= layers; l++) {
        const k = l === 0 ? firstKernel : 3;
        const cin = l === 0 ? 1 : F;
        this.gatedLayers.push({
          v: this.conv(k, cin, 2 * F, rng, null, k, verticalMask(k, cin, 2 * F)),
          h: this.conv(k, cin, 2 * F, rng, null, 1, horizontalMask(k, cin, 2 * F, l === 0 ? 'A' : 'B')),
          vh: this.conv(1, 2 * F, 2 * F, rng, null),
          out: this.conv(1, F, F, rng, null),
        });
      }
      this.convs.push(this.conv(1, F, F, rng, null), this.conv(1, F, 1, rng, null));
      return;
    }
    this.convs.push(this.conv(firstKernel, 1, F, rng, 'A'));
    for (let l = 0; l < layers; l++) this.convs.push(this.conv(3, F, F, rng, 'B'));
    // 1x1 convolutions see only their own pixel: no mask needed
    this.convs.push(this.conv(1, F, F, rng, null), this.conv(1, F, 1, rng, null));
  }

  private apply({ W, b, mask }: ConvLayer, x: tf.Tensor4D): tf.Tensor4D {
    const w = mask ? (tf.mul(W, mask) as tf.Tensor4D) : (W as tf.Tensor4D);
    return tf.add(tf.conv2d(x, w, 1, 'same'), b) as tf.Tensor4D;
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const B = x.shape[0];
      const img: tf.Tensor4D = tf.reshape(x, [B, this.H, this.W, 1]);
      let h = this.config.gated ? this.gatedStacks(img) : img;
      this.convs.forEach((c, l) => {
        if (this.config.gated || l > 0) h = tf.relu(h);
        h = this.apply(c, h);
      });
      return tf.reshape(h, [B, this.H * this.W]) as tf.Tensor2D;
    });
  }

  /** the gated stacks; returns the horizontal stack's features */
  private gatedStacks(img: tf.Tensor4D): tf.Tensor4D {
    let v = img;
    let h = img;
    this.gatedLayers.forEach((layer, l) => {
      const vPre = this.apply(layer.v, v); // rows <= r
      // shifted down one row: at row r the vertical features now hold rows < r only
      const shifted = tf.slice(tf.pad(vPre, [[0, 0], [1, 0], [0, 0], [0, 0]]), [0, 0, 0, 0], [-1, this.H, -1, -1]) as tf.Tensor4D;
      const hPre = tf.add(this.apply(layer.h, h), this.apply(layer.vh, shifted)) as tf.Tensor4D;
      const hOut = this.apply(layer.out, gate(hPre));
      h = l === 0 ? hOut : (tf.add(h, hOut) as tf.Tensor4D);
      v = gate(vPre);
    });
    return h;
  }

  /** every convolution, named: the plain stack, then the gated layers' four each */
  private allConvs(): [string, ConvLayer][] {
    return [
      ...this.convs.map((c, l): [string, ConvLayer] => [`pixelcnn/${l}`, c]),
      ...this.gatedLayers.flatMap((g, l) => (['v', 'h', 'vh', 'out'] as const).map((k): [string, ConvLayer] => [`pixelcnn/gated${l}/${k}`, g[k]])),
    ];
  }

  protected vars(): tf.Variable[] {
    return this.allConvs().flatMap(([, { W, b }]) => [W, b]);
  }

  getWeights(): NamedWeight[] {
    return this.allConvs().flatMap(([n, { W, b }]) => [{ name: `${n}/W`, tensor: W }, { name: `${n}/b`, tensor: b }]);
  }

  setWeights(weights: NamedWeight[]): void {
    loadNamed(weights, Object.fromEntries(this.allConvs().flatMap(([n, { W, b }]) => [[`${n}/W`, W], [`${n}/b`, b]])));
  }

  protected disposeLayers(): void {
    tf.dispose(this.allConvs().flatMap(([, { W, b, mask }]) => (mask ? [W, b, mask] : [W, b])));
  }
}
