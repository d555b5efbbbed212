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
// Images with C channels (binary RGB: [H, W, 3]) are generated pixel by pixel in
// raster order and, inside a pixel, channel by channel (R, then G given R, then B given
// R and G): the flat HWC index order. Every feature map belongs to the channel group
// (its index mod C); at a kernel's centre a type-A mask lets group g see only groups
// < g, a type-B mask groups <= g, and 1x1 layers are type B. With C = 1 this is the
// plain centre rule.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import { BinaryAutoregressive } from './chain-rule';
import { loadNamed, uniqueName } from '../../nn/params';
import type { DataInfo, NamedWeight } from '../types';
import { glorotLimit, uniformValues } from '../../nn/init';

export type PixelCnnConfig = LatentLab.PixelCnnConfig;

/** [kh, kw, cin, cout] mask keeping the rows up to and including the centre one (a vertical stack) */
function verticalMask(k: number, cin: number, cout: number): tf.Tensor4D {
  const m = new Float32Array(k * k * cin * cout);
  m.fill(1, 0, (Math.floor(k / 2) + 1) * k * cin * cout);
  return tf.tensor4d(m, [k, k, cin, cout]);
}

/** [1, k, cin, cout] mask keeping the columns left of the centre, and the centre by channel group (A or B) */
function horizontalMask(k: number, cin: number, cout: number, type: 'A' | 'B', C: number): tf.Tensor4D {
  return tf.tidy(() => tf.slice(pixelMask(k, cin, cout, type, C), [Math.floor(k / 2), 0, 0, 0], [1, k, cin, cout]) as tf.Tensor4D);
}

/** [1, 1, cin, cout] type-B channel-group mask of a 1x1 layer (null for one channel: nothing to mask) */
function pointMask(cin: number, cout: number, C: number): tf.Tensor4D | null {
  return C === 1 ? null : pixelMask(1, cin, cout, 'B', C);
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

/** whether input channel ci may feed output channel co at a kernel's centre (channel groups: index mod C) */
function centreOn(ci: number, co: number, C: number, type: 'A' | 'B'): boolean {
  return type === 'A' ? ci % C < co % C : ci % C <= co % C;
}

/** [k, k, cin, cout] mask: 1 above the centre row and left of the centre in its row; the centre by channel group */
export function pixelMask(k: number, cin: number, cout: number, type: 'A' | 'B', C = 1): tf.Tensor4D {
  const m = new Float32Array(k * k * cin * cout);
  const c = Math.floor(k / 2);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const base = (i * k + j) * cin * cout;
      if (i < c || (i === c && j < c)) m.fill(1, base, base + cin * cout);
      else if (i === c && j === c) for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) m[base + ci * cout + co] = centreOn(ci, co, C, type) ? 1 : 0;
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
  /** channels per pixel */
  private C = 1;
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
    if (data.kind !== 'image' || data.shape.length < 2 || data.shape.length > 3) {
      throw new Error('pixelcnn models images (e.g. lab.data.mnist()): it needs an H x W or H x W x C shape');
    }
    const C = data.shape[2] ?? 1;
    if (C > 1 && this.config.filters % C !== 0) throw new Error(`pixelcnn: filters (${this.config.filters}) must be a multiple of the ${C} channels (each channel gets its own feature group)`);
    [this.H, this.W] = data.shape;
    this.C = C;
    super.build(data, rng);
  }

  private conv(k: number, cin: number, cout: number, rng: Rng, type: 'A' | 'B' | null, kh = k, mask: tf.Tensor4D | null = type ? pixelMask(k, cin, cout, type, this.C) : null): ConvLayer {
    const w = uniformValues(kh * k * cin * cout, glorotLimit(kh * k * cin, kh * k * cout), rng);
    return {
      W: tf.variable(tf.tensor4d(w, [kh, k, cin, cout]), true, uniqueName('pixelcnn_W')),
      b: tf.variable(tf.zeros([cout]), true, uniqueName('pixelcnn_b')),
      mask,
    };
  }

  protected buildLayers(_D: number, rng: Rng): void {
    const { filters: F, layers, firstKernel } = this.config;
    const C = this.C;
    if (this.config.gated) {
      for (let l = 0; l <= layers; l++) {
        const k = l === 0 ? firstKernel : 3;
        const cin = l === 0 ? C : F;
        this.gatedLayers.push({
          // the vertical stack reaches the horizontal one only shifted a row down: no channel masks
          v: this.conv(k, cin, 2 * F, rng, null, k, verticalMask(k, cin, 2 * F)),
          h: this.conv(k, cin, 2 * F, rng, null, 1, horizontalMask(k, cin, 2 * F, l === 0 ? 'A' : 'B', C)),
          vh: this.conv(1, 2 * F, 2 * F, rng, null),
          out: this.conv(1, F, F, rng, null, 1, pointMask(F, F, C)),
        });
      }
      this.convs.push(this.conv(1, F, F, rng, null, 1, pointMask(F, F, C)), this.conv(1, F, C, rng, null, 1, pointMask(F, C, C)));
      return;
    }
    this.convs.push(this.conv(firstKernel, C, F, rng, 'A'));
    for (let l = 0; l < layers; l++) this.convs.push(this.conv(3, F, F, rng, 'B'));
    // 1x1 convolutions see only their own pixel: with one channel no mask is needed
    this.convs.push(this.conv(1, F, F, rng, null, 1, pointMask(F, F, C)), this.conv(1, F, C, rng, null, 1, pointMask(F, C, C)));
  }

  private apply({ W, b, mask }: ConvLayer, x: tf.Tensor4D): tf.Tensor4D {
    const w = mask ? (tf.mul(W, mask) as tf.Tensor4D) : (W as tf.Tensor4D);
    return tf.add(tf.conv2d(x, w, 1, 'same'), b) as tf.Tensor4D;
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const B = x.shape[0];
      const img: tf.Tensor4D = tf.reshape(x, [B, this.H, this.W, this.C]);
      let h = this.config.gated ? this.gatedStacks(img) : img;
      this.convs.forEach((c, l) => {
        if (this.config.gated || l > 0) h = tf.relu(h);
        h = this.apply(c, h);
      });
      return tf.reshape(h, [B, this.H * this.W * this.C]) as tf.Tensor2D;
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
