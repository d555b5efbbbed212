// Spectral normalization (Miyato et al. 2018): use W / σ_max(W) in place of a weight W,
// so the layer (as a linear map) is 1-Lipschitz and a network of such layers with
// 1-Lipschitz activations is too. σ_max is estimated by power iteration on WᵀW with a
// persistent vector u: one step per training step is enough because W changes little
// between steps, so u stays close to the top right-singular vector.
//
// A dense weight [in, out] is the matrix M; a convolution kernel [kh, kw, cin, cout] is
// flattened to M = [kh·kw·cin, cout] (the usual surrogate for the convolution's norm).
// With u ∈ R^out a unit vector, σ ≈ ‖M u‖₂; u is held constant when differentiating,
// so ∂σ/∂M = v uᵀ with v = M u / ‖M u‖ (the paper's gradient).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';
import { uniqueName } from './params';

/** the weight as a matrix [rows, cols]: every axis but the last folded into the rows */
function asMatrix(W: tf.Tensor): tf.Tensor2D {
  const cols = W.shape[W.shape.length - 1];
  return tf.reshape(W, [-1, cols]) as tf.Tensor2D;
}

/** x / ‖x‖ (x a column [n, 1]); a zero vector stays zero instead of becoming NaN */
function unit(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.add(tf.norm(x), 1e-12)) as tf.Tensor2D;
}

export class SpectralNorm {
  /** the persistent power-iteration vector [cols, 1] (unit length; not trained) */
  readonly u: tf.Variable;

  /** `cols`: the weight's last dimension (its outputs); u starts as a seeded random unit vector */
  constructor(name: string, readonly cols: number, rng: Rng) {
    const init = new Float32Array(cols);
    let s = 0;
    for (let i = 0; i < cols; i++) s += (init[i] = rng.normal()) ** 2;
    const r = Math.sqrt(s) || 1;
    for (let i = 0; i < cols; i++) init[i] /= r;
    this.u = tf.variable(tf.tensor2d(init, [cols, 1]), false, uniqueName(`${name}_sn_u`));
  }

  /**
   * `steps` power-iteration steps on MᵀM from the stored u (u ← normalize(Mᵀ normalize(M u))),
   * outside any gradient; returns the new estimate σ = ‖M u‖ as a scalar tensor, not read
   * back (the caller owns it: read it, or dispose it when only u's update matters).
   */
  iterate(W: tf.Tensor, steps = 1): tf.Scalar {
    return tf.tidy(() => {
      const M = asMatrix(W);
      let u = this.u as unknown as tf.Tensor2D;
      for (let i = 0; i < steps; i++) {
        const v = unit(tf.matMul(M, u));
        u = unit(tf.matMul(M, v, true, false));
      }
      this.u.assign(u);
      return tf.norm(tf.matMul(M, u)) as tf.Scalar;
    });
  }

  /** σ(W) = ‖M u‖ with u constant: the estimate of σ_max(W) that gradients flow through */
  sigma(W: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.norm(tf.matMul(asMatrix(W), this.u as unknown as tf.Tensor2D)) as tf.Scalar);
  }

  /** W / σ(W), the normalized weight, in W's shape */
  normalize<T extends tf.Tensor>(W: T): T {
    return tf.tidy(() => tf.div(W, tf.add(this.sigma(W), 1e-12)) as T);
  }

  dispose(): void {
    this.u.dispose();
  }
}
