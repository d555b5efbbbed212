// The speed reference set in TensorFlow.js. Each model is defined here once, with
// the same shapes as its twin in bench/torch_reference.py, and exposes one
// training step (forward, backward, Adam update) on a fixed batch. These are
// timing twins, not the model-zoo implementations: plain variables and ops.
import * as tf from '@tensorflow/tfjs';
import { bernoulli, normal } from '../engine/ops/random';
import { adam } from '../engine/train/fused-adam';

export interface BenchModel {
  name: string;
  batch: number;
  /** one optimizer step; resolves when its loss has been read back */
  step(): Promise<number>;
  dispose(): void;
}

let uid = 0;
const rand = (seed: number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Glorot-uniform weights from a seeded generator. */
function glorot(shape: number[], fanIn: number, fanOut: number, r: () => number): tf.Variable {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (2 * r() - 1) * limit;
  return tf.variable(tf.tensor(v, shape), true, `bench_${++uid}`);
}
const zeros = (shape: number[]) => tf.variable(tf.zeros(shape), true, `bench_${++uid}`);
const dense = (i: number, o: number, r: () => number) => ({ W: glorot([i, o], i, o, r), b: zeros([o]) });
const conv = (k: number, ci: number, co: number, r: () => number) => ({ W: glorot([k, k, ci, co], k * k * ci, k * k * co, r), b: zeros([co]) });
/** conv2dTranspose filters are [k, k, out, in] */
const deconv = (k: number, ci: number, co: number, r: () => number) => ({ W: glorot([k, k, co, ci], k * k * ci, k * k * co, r), b: zeros([co]) });
type P = { W: tf.Variable; b: tf.Variable };
const lin = (x: tf.Tensor2D, p: P) => tf.add(tf.matMul(x, p.W as tf.Tensor2D), p.b) as tf.Tensor2D;
const bce = (logits: tf.Tensor, x: tf.Tensor) => tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits))).div(x.shape[0]) as tf.Scalar;
const vars = (...ps: P[]) => ps.flatMap((p) => [p.W, p.b]);

/** A fixed batch of binary 28×28 images (Bernoulli(0.13), like MNIST's ink density). */
function binaryBatch(n: number, r: () => number): tf.Tensor2D {
  const v = new Float32Array(n * 784);
  for (let i = 0; i < v.length; i++) v[i] = r() < 0.13 ? 1 : 0;
  return tf.tensor2d(v, [n, 784]);
}

function optimizerStep(opt: tf.Optimizer, loss: () => tf.Scalar, vs: tf.Variable[]): Promise<number> {
  const l = opt.minimize(loss, true, vs)!;
  return l.data().then((d) => {
    l.dispose();
    return d[0];
  });
}

function owned(name: string, batch: number, opt: tf.Optimizer, loss: () => tf.Scalar, vs: tf.Variable[], extra: tf.Tensor[]): BenchModel {
  return {
    name,
    batch,
    step: () => optimizerStep(opt, loss, vs),
    dispose: () => {
      tf.dispose([...vs, ...extra]);
      opt.dispose();
    },
  };
}

/** MLP VAE 784-512-256, z = 16, Bernoulli decoder. */
export function mlpVae(batch = 128): BenchModel {
  const r = rand(1);
  const x = binaryBatch(batch, r);
  const e1 = dense(784, 512, r), e2 = dense(512, 256, r), e3 = dense(256, 32, r);
  const d1 = dense(16, 256, r), d2 = dense(256, 512, r), d3 = dense(512, 784, r);
  let seed = 0;
  const loss = () => {
    const h = lin(tf.relu(lin(tf.relu(lin(x, e1)), e2)) as tf.Tensor2D, e3);
    const [mu, logvar] = tf.split(h, 2, 1);
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), normal(mu.shape, ++seed)));
    const logits = lin(tf.relu(lin(tf.relu(lin(z as tf.Tensor2D, d1)), d2)) as tf.Tensor2D, d3);
    const kl = tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar)))).div(batch);
    return tf.add(bce(logits, x), kl) as tf.Scalar;
  };
  return owned('mlp-vae', batch, adam(1e-3), loss, vars(e1, e2, e3, d1, d2, d3), [x]);
}

/** Conv VAE on 28×28: two stride-2 convs (32, 64), z = 16, two stride-2 transposed convs. */
export function convVae(batch = 128): BenchModel {
  const r = rand(2);
  const x = binaryBatch(batch, r);
  const c1 = conv(3, 1, 32, r), c2 = conv(3, 32, 64, r), fc = dense(7 * 7 * 64, 32, r);
  const fd = dense(16, 7 * 7 * 64, r), t1 = deconv(4, 64, 32, r), t2 = deconv(4, 32, 1, r);
  let seed = 0;
  const loss = () => {
    const img = tf.reshape(x, [batch, 28, 28, 1]) as tf.Tensor4D;
    const h1 = tf.relu(tf.add(tf.conv2d(img, c1.W as tf.Tensor4D, 2, 'same'), c1.b)) as tf.Tensor4D;
    const h2 = tf.relu(tf.add(tf.conv2d(h1, c2.W as tf.Tensor4D, 2, 'same'), c2.b));
    const [mu, logvar] = tf.split(lin(tf.reshape(h2, [batch, 7 * 7 * 64]), fc), 2, 1);
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), normal(mu.shape, ++seed)));
    const g0 = tf.reshape(tf.relu(lin(z as tf.Tensor2D, fd)), [batch, 7, 7, 64]) as tf.Tensor4D;
    const g1 = tf.relu(tf.add(tf.conv2dTranspose(g0, t1.W as tf.Tensor4D, [batch, 14, 14, 32], 2, 'same'), t1.b)) as tf.Tensor4D;
    const logits = tf.add(tf.conv2dTranspose(g1, t2.W as tf.Tensor4D, [batch, 28, 28, 1], 2, 'same'), t2.b);
    const kl = tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar)))).div(batch);
    return tf.add(bce(tf.reshape(logits, [batch, 784]), x), kl) as tf.Scalar;
  };
  return owned('conv-vae', batch, adam(1e-3), loss, vars(c1, c2, fc, fd, t1, t2), [x]);
}

/** DCGAN-small on 28×28: G z64 → 7×7×64 → convT 32 → convT 1; D conv 32 → conv 64 → dense 1. One D and one G step. */
export function dcganSmall(batch = 128): BenchModel {
  const r = rand(3);
  const x = tf.reshape(binaryBatch(batch, r), [batch, 28, 28, 1]) as tf.Tensor4D;
  const g0 = dense(64, 7 * 7 * 64, r), g1 = deconv(4, 64, 32, r), g2 = deconv(4, 32, 1, r);
  const d1 = conv(4, 1, 32, r), d2 = conv(4, 32, 64, r), d3 = dense(7 * 7 * 64, 1, r);
  const optD = adam(2e-4, 0.5);
  const optG = adam(2e-4, 0.5);
  let seed = 0;
  const G = (z: tf.Tensor2D) => {
    const h0 = tf.reshape(tf.relu(lin(z, g0)), [batch, 7, 7, 64]) as tf.Tensor4D;
    const h1 = tf.relu(tf.add(tf.conv2dTranspose(h0, g1.W as tf.Tensor4D, [batch, 14, 14, 32], 2, 'same'), g1.b)) as tf.Tensor4D;
    return tf.sigmoid(tf.add(tf.conv2dTranspose(h1, g2.W as tf.Tensor4D, [batch, 28, 28, 1], 2, 'same'), g2.b)) as tf.Tensor4D;
  };
  const D = (img: tf.Tensor4D) => {
    const h1 = tf.leakyRelu(tf.add(tf.conv2d(img, d1.W as tf.Tensor4D, 2, 'same'), d1.b), 0.2) as tf.Tensor4D;
    const h2 = tf.leakyRelu(tf.add(tf.conv2d(h1, d2.W as tf.Tensor4D, 2, 'same'), d2.b), 0.2);
    return lin(tf.reshape(h2, [batch, 7 * 7 * 64]), d3);
  };
  const ones = tf.ones([batch, 1]);
  const zerosT = tf.zeros([batch, 1]);
  return {
    name: 'dcgan-small',
    batch,
    async step() {
      const z = normal([batch, 64], ++seed) as tf.Tensor2D;
      const dl = optD.minimize(() => tf.add(tf.losses.sigmoidCrossEntropy(ones, D(x)), tf.losses.sigmoidCrossEntropy(zerosT, D(G(z)))) as tf.Scalar, true, vars(d1, d2, d3))!;
      const gl = optG.minimize(() => tf.losses.sigmoidCrossEntropy(ones, D(G(z))) as tf.Scalar, true, vars(g0, g1, g2))!;
      const v = (await gl.data())[0] + (await dl.data())[0];
      tf.dispose([z, dl, gl]);
      return v;
    },
    dispose() {
      tf.dispose([x, ones, zerosT, ...vars(g0, g1, g2, d1, d2, d3)]);
      optD.dispose();
      optG.dispose();
    },
  };
}

/** RealNVP on 784 dims: 4 affine couplings with alternating checkerboard masks, s and t from one MLP 784-512-1568 each. */
export function realNvp(batch = 128): BenchModel {
  const r = rand(4);
  // dequantized, logit-free data in (0, 1)
  const x = tf.add(binaryBatch(batch, r), tf.randomUniform([batch, 784], 0, 1, 'float32', 4)).div(2) as tf.Tensor2D;
  const masks = [0, 1, 0, 1].map((parity) => tf.tensor1d(Array.from({ length: 784 }, (_, i) => ((i % 28) + Math.floor(i / 28) + parity) % 2)));
  const nets = masks.map(() => ({ h: dense(784, 512, r), o: dense(512, 2 * 784, r) }));
  const loss = () => {
    let h: tf.Tensor2D = x;
    let logdet: tf.Tensor = tf.zeros([batch]);
    nets.forEach((net, k) => {
      const m = masks[k];
      const xm = tf.mul(h, m) as tf.Tensor2D;
      const [sRaw, t] = tf.split(lin(tf.relu(lin(xm, net.h)), net.o), 2, 1);
      const s = tf.mul(tf.tanh(sRaw), tf.sub(1, m));
      h = tf.add(xm, tf.mul(tf.sub(1, m), tf.add(tf.mul(h, tf.exp(s)), t))) as tf.Tensor2D;
      logdet = tf.add(logdet, tf.sum(s, 1));
    });
    const logpz = tf.sum(tf.mul(-0.5, tf.add(tf.square(h), Math.log(2 * Math.PI))), 1);
    return tf.neg(tf.mean(tf.add(logpz, logdet))) as tf.Scalar;
  };
  return owned('realnvp', batch, adam(1e-4), loss, nets.flatMap((n) => vars(n.h, n.o)), [x, ...masks]);
}

/** PixelCNN-small: masked 7×7 type A conv, three masked 3×3 type B convs, 1×1 output; 32 channels, Bernoulli pixels. */
export function pixelCnnSmall(batch = 128): BenchModel {
  const r = rand(5);
  const x = tf.reshape(binaryBatch(batch, r), [batch, 28, 28, 1]) as tf.Tensor4D;
  const mask = (k: number, ci: number, co: number, typeA: boolean) => {
    const v = new Float32Array(k * k * ci * co);
    const c = (k - 1) / 2;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const on = i < c || (i === c && (typeA ? j < c : j <= c));
      if (on) for (let q = 0; q < ci * co; q++) v[(i * k + j) * ci * co + q] = 1;
    }
    return tf.tensor4d(v, [k, k, ci, co]);
  };
  const layers = [
    { p: conv(7, 1, 32, r), m: mask(7, 1, 32, true) },
    { p: conv(3, 32, 32, r), m: mask(3, 32, 32, false) },
    { p: conv(3, 32, 32, r), m: mask(3, 32, 32, false) },
    { p: conv(3, 32, 32, r), m: mask(3, 32, 32, false) },
    { p: conv(1, 32, 1, r), m: mask(1, 32, 1, false) },
  ];
  const loss = () => {
    let h: tf.Tensor4D = x;
    layers.forEach(({ p, m }, l) => {
      h = tf.add(tf.conv2d(h, tf.mul(p.W, m) as tf.Tensor4D, 1, 'same'), p.b) as tf.Tensor4D;
      if (l + 1 < layers.length) h = tf.relu(h);
    });
    return bce(tf.reshape(h, [batch, 784]), tf.reshape(x, [batch, 784]));
  };
  return owned('pixelcnn-small', batch, adam(1e-3), loss, layers.flatMap((l) => vars(l.p)), [x, ...layers.map((l) => l.m)]);
}

/** RBM 784-500 trained by CD-1 (no autodiff: the update is the positive minus the negative phase); binary samples from the engine's Bernoulli draw (the twin compares torch.rand_like with p, which beats torch.bernoulli there). */
export function rbmCd1(batch = 128): BenchModel {
  const r = rand(6);
  const v0 = binaryBatch(batch, r);
  const W = tf.variable(tf.mul(tf.randomNormal([784, 500], 0, 1, 'float32', 6), 0.01), true, `bench_${++uid}`);
  const b = zeros([784]);
  const c = zeros([500]);
  const lr = 0.05;
  let seed = 0;
  return {
    name: 'rbm-cd1',
    batch,
    async step() {
      const err = tf.tidy(() => {
        const ph0 = tf.sigmoid(tf.add(tf.matMul(v0, W), c));
        const h0 = bernoulli(ph0, ++seed);
        const pv1 = tf.sigmoid(tf.add(tf.matMul(h0, W, false, true), b));
        const v1 = bernoulli(pv1, ++seed);
        const ph1 = tf.sigmoid(tf.add(tf.matMul(v1, W), c));
        const dW = tf.sub(tf.matMul(v0, ph0, true, false), tf.matMul(v1, ph1, true, false));
        W.assign(tf.add(W, tf.mul(dW, lr / batch)));
        b.assign(tf.add(b, tf.mul(tf.mean(tf.sub(v0, v1), 0), lr)));
        c.assign(tf.add(c, tf.mul(tf.mean(tf.sub(ph0, ph1), 0), lr)));
        return tf.mean(tf.square(tf.sub(v0, pv1)));
      });
      const v = (await err.data())[0];
      err.dispose();
      return v;
    },
    dispose: () => tf.dispose([v0, W, b, c]),
  };
}

export const REFERENCE_SET: Record<string, (batch?: number) => BenchModel> = {
  'mlp-vae': mlpVae,
  'conv-vae': convVae,
  'dcgan-small': dcganSmall,
  realnvp: realNvp,
  'pixelcnn-small': pixelCnnSmall,
  'rbm-cd1': rbmCd1,
};
