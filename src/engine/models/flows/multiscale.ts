// The multi-scale architecture of RealNVP and Glow, on flat rows in H x W x C order:
//  - Squeeze turns each 2 x 2 block of pixels into one pixel of 4C channels;
//  - ChannelSplit reorders an image so that the first half of the channels of every
//    pixel come first (an [H, W, C/2] image) and the second half after (a reordering:
//    log-det 0);
//  - FactorOut runs its inner layers on the first `keep` units only; the rest leave
//    the flow there and go straight to the prior. Deeper levels so work on fewer units.
import * as tf from '@tensorflow/tfjs';
import type { NamedWeight } from '../types';
import { inverseThrough, type FlowLayer } from './layers';

/** H x W x C -> H/2 x W/2 x 4C: each 2 x 2 block of pixels becomes one pixel of 4C channels. */
export class Squeeze implements FlowLayer {
  readonly kind = 'squeeze';
  constructor(readonly H: number, readonly W: number, readonly C: number) {
    if (H % 2 || W % 2) throw new Error(`squeeze: ${H} x ${W} is not divisible by 2`);
  }
  private shuffle(x: tf.Tensor2D): tf.Tensor2D {
    const { H, W, C } = this;
    const B = x.shape[0];
    // [B, H/2, dy, W/2, dx, C] -> [B, H/2, W/2, dy, dx, C]; the same swap undoes it
    return tf.reshape(tf.transpose(tf.reshape(x, [B, H / 2, 2, W / 2, 2, C]), [0, 1, 3, 2, 4, 5]), [B, H * W * C]) as tf.Tensor2D;
  }
  private unshuffle(y: tf.Tensor2D): tf.Tensor2D {
    const { H, W, C } = this;
    const B = y.shape[0];
    return tf.reshape(tf.transpose(tf.reshape(y, [B, H / 2, W / 2, 2, 2, C]), [0, 1, 3, 2, 4, 5]), [B, H * W * C]) as tf.Tensor2D;
  }
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    return { y: this.shuffle(x), logdet: tf.zeros([x.shape[0]]) as tf.Tensor1D };
  }
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.unshuffle(y));
  }
  vars(): tf.Variable[] {
    return [];
  }
  named(): NamedWeight[] {
    return [];
  }
  dispose(): void {}
}

/** [P pixels, C channels] -> the first C/2 channels of every pixel, then the last C/2 */
export class ChannelSplit implements FlowLayer {
  readonly kind = 'channel-split';
  constructor(readonly pixels: number, readonly C: number) {
    if (C % 2) throw new Error(`channel split: ${C} channels do not halve`);
  }
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    const B = x.shape[0];
    const y = tf.reshape(tf.transpose(tf.reshape(x, [B, this.pixels, 2, this.C / 2]), [0, 2, 1, 3]), [B, -1]) as tf.Tensor2D;
    return { y, logdet: tf.zeros([B]) as tf.Tensor1D };
  }
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    const B = y.shape[0];
    return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(y, [B, 2, this.pixels, this.C / 2]), [0, 2, 1, 3]), [B, -1]) as tf.Tensor2D);
  }
  vars(): tf.Variable[] {
    return [];
  }
  named(): NamedWeight[] {
    return [];
  }
  dispose(): void {}
}

/** The inner layers act on the first `keep` of D units; the other units are factored out unchanged. */
export class FactorOut implements FlowLayer {
  readonly kind: string;
  constructor(readonly D: number, readonly keep: number, readonly inner: FlowLayer[]) {
    if (!(keep > 0 && keep < D)) throw new Error(`factor-out: keep ${keep} of ${D} units`);
    this.kind = `factor-out ${D - keep} (then ${inner.length} layers on ${keep})`;
  }
  private parts(x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    return [tf.slice(x, [0, 0], [-1, this.keep]), tf.slice(x, [0, this.keep], [-1, this.D - this.keep])];
  }
  init(x: tf.Tensor2D): void {
    tf.tidy(() => {
      let a = this.parts(x)[0];
      for (const layer of this.inner) {
        layer.init?.(a);
        a = layer.forward(a).y;
      }
    });
  }
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    const parts = this.parts(x);
    let a = parts[0];
    const rest = parts[1];
    let logdet = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    for (const layer of this.inner) {
      const r = layer.forward(a);
      a = r.y;
      logdet = tf.add(logdet, r.logdet) as tf.Tensor1D;
    }
    return { y: tf.concat([a, rest], 1) as tf.Tensor2D, logdet };
  }
  async inverse(y: tf.Tensor2D): Promise<tf.Tensor2D> {
    const [first, rest] = this.parts(y);
    let a = first;
    try {
      a = await inverseThrough(this.inner, first);
      return tf.concat([a, rest], 1) as tf.Tensor2D;
    } finally {
      tf.dispose(a === first ? [first, rest] : [first, rest, a]);
    }
  }
  vars(): tf.Variable[] {
    return this.inner.flatMap((l) => l.vars());
  }
  named(prefix: string): NamedWeight[] {
    return this.inner.flatMap((l, k) => l.named(`${prefix}/${k}`));
  }
  dispose(): void {
    for (const l of this.inner) l.dispose();
  }
}
