// A plain MLP on tf.Variables with seeded Glorot-uniform initialization.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';
import { glorotLimit, uniformValues } from './init';
import { namedTensor, uniqueName, weightsByName, type NamedWeight } from './params';

export type Activation = 'relu' | 'leakyRelu' | 'tanh' | 'linear';

export class Mlp {
  readonly weights: { W: tf.Variable; b: tf.Variable }[] = [];
  constructor(
    readonly name: string,
    readonly sizes: number[],
    rng: Rng,
    readonly hiddenActivation: Activation = 'relu',
  ) {
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      const w = uniformValues(fanIn * fanOut, glorotLimit(fanIn, fanOut), rng);
      this.weights.push({
        W: tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true, uniqueName(`${name}_W${l}`)),
        b: tf.variable(tf.zeros([fanOut]), true, uniqueName(`${name}_b${l}`)),
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
    const byName = weightsByName(weights);
    this.weights.forEach(({ W, b }, l) => {
      W.assign(namedTensor(byName, `${prefix}/W${l}`, W.shape));
      b.assign(namedTensor(byName, `${prefix}/b${l}`, b.shape));
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
