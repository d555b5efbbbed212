// Optimizers from tf.train, stepped by hand (computeGradients → clip → apply) so that
// global-norm clipping, decoupled weight decay and schedules work with every one.
import * as tf from '@tensorflow/tfjs';
import { adam } from './fused-adam';

export type OptimizerName = 'sgd' | 'momentum' | 'rmsprop' | 'adagrad' | 'adam';

export interface OptimizerSettings {
  optimizer: OptimizerName;
  lr: number;
  beta1: number;
  beta2: number;
  momentum: number;
  clipNorm: number | null;
  /** decoupled weight decay (AdamW style, Loshchilov & Hutter): after each update,
   *  w ← w·(1 − lr·wd) for weight matrices (rank ≥ 2); biases are not decayed. */
  weightDecay: number;
}

export function createOptimizer(s: OptimizerSettings): tf.Optimizer {
  switch (s.optimizer) {
    case 'sgd':
      return tf.train.sgd(s.lr);
    case 'momentum':
      return tf.train.momentum(s.lr, s.momentum);
    case 'rmsprop':
      return tf.train.rmsprop(s.lr, 0.9);
    case 'adagrad':
      return tf.train.adagrad(s.lr);
    case 'adam':
      return adam(s.lr, s.beta1, s.beta2);
    default:
      throw new Error(`unknown optimizer '${String(s.optimizer)}' (sgd, momentum, rmsprop, adagrad, adam)`);
  }
}

/** SGD/momentum cache -lr as a tensor (setLearningRate); the others read the field. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/**
 * Disposes what a gradient computation that threw (a full wasm heap) left on tfjs's
 * tape. The tensors it keeps for the backward pass are released only when the pass
 * completes, and the next computation starts a new tape without them: they stayed
 * held for good (at NADE's published width, the activations that did fit, 200 MB
 * each at batch 128).
 */
function releaseTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || !state.activeTape) return; // an outer gradient (a penalty's) still owns it
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null as unknown as typeof state.activeTape;
}

/** One step: returns the loss value. All intermediate tensors are disposed, also when it throws. */
export function optimizerStep(
  opt: tf.Optimizer,
  loss: () => tf.Scalar,
  vars: tf.Variable[],
  s: OptimizerSettings,
  lr: number,
): tf.Scalar {
  setLearningRate(opt, lr);
  let computed: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    computed = opt.computeGradients(loss, vars);
  } catch (e) {
    releaseTape();
    throw e;
  }
  const { value, grads } = computed;
  let g: tf.NamedTensorMap = grads;
  if (s.clipNorm !== null && s.clipNorm > 0) {
    const clip = s.clipNorm;
    g = tf.tidy(() => {
      const sq = Object.values(grads).map((t) => tf.sum(tf.square(t)));
      const norm = tf.sqrt(tf.addN(sq));
      const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      const out: tf.NamedTensorMap = {};
      for (const [k, t] of Object.entries(grads)) out[k] = tf.mul(t, scale);
      return out;
    });
    tf.dispose(grads);
  }
  opt.applyGradients(g);
  tf.dispose(g);
  if (s.weightDecay > 0) {
    const f = 1 - lr * s.weightDecay;
    tf.tidy(() => {
      for (const v of vars) if (v.rank >= 2) v.assign(tf.mul(v, f));
    });
  }
  return value;
}
