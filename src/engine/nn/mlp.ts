// A plain MLP on tf.Variables with seeded Glorot-uniform initialization. Variable names
// get a process-wide counter: tf refuses two live variables with the same name, and
// a notebook re-creates models every time a cell re-runs.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';
import type { NamedWeight } from '../models/types';

let counter = 0;

export type Activation = 'relu' | 'leakyRelu' | 'tanh' | 'linear';

export class Mlp {
  readonly weights: { W: tf.Variable; b: tf.Variable }[] = [];
  constructor(
    readonly name: string,
    readonly sizes: number[],
    rng: Rng,
    readonly hiddenActivation: Activation = 'relu',
  ) {
    const id = ++counter;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const w = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * limit;
      this.weights.push({
        W: tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true, `${name}_${id}_W${l}`),
        b: tf.variable(tf.zeros([fanOut]), true, `${name}_${id}_b${l}`),
      });
    }
  }

  /** hidden layers use the hidden activation; the last layer is linear */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    this.weights.forEach(({ W, b }, l) => {
      h = tf.add(tf.matMul(h, W as tf.Tensor2D), b) as tf.Tensor2D;
      if (l + 1 < this.weights.length) h = activate(h, this.hiddenActivation);
    });
    return h;
  }

  vars(): tf.Variable[] {
    return this.weights.flatMap(({ W, b }) => [W, b]);
  }

  named(prefix: string): NamedWeight[] {
    return this.weights.flatMap(({ W, b }, l) => [
      { name: `${prefix}/W${l}`, tensor: W },
      { name: `${prefix}/b${l}`, tensor: b },
    ]);
  }

  load(prefix: string, weights: NamedWeight[]): void {
    const byName = new Map(weights.map((w) => [w.name, w.tensor]));
    this.weights.forEach(({ W, b }, l) => {
      for (const [v, key] of [
        [W, `${prefix}/W${l}`],
        [b, `${prefix}/b${l}`],
      ] as const) {
        const t = byName.get(key);
        if (!t) throw new Error(`setWeights: missing '${key}'`);
        if (t.shape.join('x') !== v.shape.join('x')) throw new Error(`setWeights: '${key}' has shape [${t.shape}] but the model expects [${v.shape}]`);
        v.assign(t);
      }
    });
  }

  dispose(): void {
    for (const { W, b } of this.weights) {
      W.dispose();
      b.dispose();
    }
  }
}

export function activate(h: tf.Tensor2D, a: Activation): tf.Tensor2D {
  switch (a) {
    case 'relu':
      return tf.relu(h);
    case 'leakyRelu':
      return tf.leakyRelu(h, 0.2);
    case 'tanh':
      return tf.tanh(h);
    default:
      return h;
  }
}
