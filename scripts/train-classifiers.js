#!/usr/bin/env node
// Trains the pinned classifiers whose features the sample metrics use (FID, KID,
// precision/recall, class coverage): an MLP 784 → 256 → 64 → 10 (ReLU, softmax
// cross-entropy) per dataset, on the TRAIN split of lab.data.mnist / fashionMnist
// (8,000 grey images; never the test split; Fashion-MNIST limited to 10,000 images like
// MNIST), then writes
//   resources/classifiers/<version>.bin   float32 little-endian weights, W1 b1 W2 b2 W3 b3
//                                         (each W [in, out] row-major)
//   resources/classifiers/<version>.json  name, version, architecture, sha256, data, accuracy
// and prints the test accuracy (grey and stochastically binarized test split).
//
// Plain JavaScript in float64 with our own seeded generator: the same seed gives the
// same bytes on every machine. Each training image is shown grey, stochastically
// binarized (every pixel ~ Bernoulli(intensity), fresh each epoch) or thresholded at
// 0.5, a third of the time each, and shifted by up to 2 pixels, so the features also
// hold for binary models' 0/1 samples and for samples a little off centre.
//
//   node scripts/train-classifiers.js [--only mnist|fashion-mnist] [--seed 1] [--epochs 16] [--out DIR]
require('sucrase/register/ts');
const { createHash } = require('node:crypto');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { imageDataset } = require('../src/engine/data/mnist.ts');
const { mulberry32, permutation } = require('../src/engine/util/rng.ts');
const { mlpRun, packMlp } = require('../src/engine/eval/classifier.ts');

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const only = arg('--only', null);
const seed = Number(arg('--seed', 1));
const epochs = Number(arg('--epochs', 16));
const outDir = arg('--out', join(__dirname, '..', 'resources', 'classifiers'));

const LAYERS = [784, 256, 64, 10];
const BATCH = 64;
const LR = 2e-3;
const WEIGHT_DECAY = 1e-4; // decoupled (AdamW), on the weight matrices
const MAX_SHIFT = 2;

function initMlp(rng) {
  const W = [], b = [];
  for (let l = 0; l + 1 < LAYERS.length; l++) {
    const [i, o] = [LAYERS[l], LAYERS[l + 1]];
    const w = new Float32Array(i * o);
    const s = Math.sqrt(2 / i); // He initialization for ReLU
    for (let k = 0; k < w.length; k++) w[k] = s * rng.normal();
    W.push(w);
    b.push(new Float32Array(o));
  }
  return { layers: LAYERS, W, b };
}

/** one augmented training image into `dst`: shifted, then grey / Bernoulli / thresholded */
function augment(src, off, dst, rng) {
  const dx = rng.int(2 * MAX_SHIFT + 1) - MAX_SHIFT;
  const dy = rng.int(2 * MAX_SHIFT + 1) - MAX_SHIFT;
  const mode = rng.int(3); // 0 grey, 1 stochastic binary, 2 threshold
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const sy = y - dy, sx = x - dx;
      let v = sy >= 0 && sy < 28 && sx >= 0 && sx < 28 ? src[off + sy * 28 + sx] : 0;
      if (mode === 1) v = v > 0 && rng.next() < v ? 1 : 0;
      else if (mode === 2) v = v > 0.5 ? 1 : 0;
      dst[y * 28 + x] = v;
    }
  }
}

function train(which) {
  const t0 = Date.now();
  // MNIST ships 10,000 digits (8,000 train); Fashion-MNIST 70,000 images, of which we take
  // the same 8,000 train / 1,000 test as lab.data.fashionMnist({ limit: 10000 })
  const settings = which === 'mnist' ? {} : { limit: 10000 };
  const grey = imageDataset(which, { binarize: false, ...settings });
  const binary = imageDataset(which, settings); // stochastic binarization, seed 0 (the default)
  const { train: tr, test } = grey;
  const rng = mulberry32(seed);
  const m = initMlp(rng.fork());
  const augRng = rng.fork();
  const orderRng = rng.fork();
  const P = m.W.length;
  // Adam moments and gradient accumulators
  const mom = m.W.map((w, l) => ({ mW: new Float64Array(w.length), vW: new Float64Array(w.length), mb: new Float64Array(m.b[l].length), vb: new Float64Array(m.b[l].length) }));
  const gW = m.W.map((w) => new Float64Array(w.length));
  const gb = m.b.map((b) => new Float64Array(b.length));
  const acts = LAYERS.slice(1).map((w) => new Float64Array(w));
  const deltas = LAYERS.slice(1).map((w) => new Float64Array(w));
  const xbuf = new Float64Array(784);
  const steps = epochs * Math.floor(tr.n / BATCH);
  let t = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const perm = permutation(tr.n, orderRng);
    let lossSum = 0, correct = 0, seen = 0;
    for (let from = 0; from + BATCH <= tr.n; from += BATCH) {
      for (let l = 0; l < P; l++) {
        gW[l].fill(0);
        gb[l].fill(0);
      }
      for (let r = 0; r < BATCH; r++) {
        const row = perm[from + r];
        const label = tr.y[row];
        augment(tr.x, row * 784, xbuf, augRng);
        // forward (ReLU hidden layers, linear logits)
        let input = xbuf;
        for (let l = 0; l < P; l++) {
          const [nIn, nOut] = [LAYERS[l], LAYERS[l + 1]];
          const h = acts[l], W = m.W[l];
          for (let j = 0; j < nOut; j++) h[j] = m.b[l][j];
          for (let i = 0; i < nIn; i++) {
            const v = input[i];
            if (v === 0) continue;
            const o = i * nOut;
            for (let j = 0; j < nOut; j++) h[j] += v * W[o + j];
          }
          if (l < P - 1) for (let j = 0; j < nOut; j++) if (h[j] < 0) h[j] = 0;
          input = h;
        }
        // softmax cross-entropy: d logits = p - onehot
        const z = acts[P - 1], d = deltas[P - 1];
        let mx = -Infinity;
        for (let k = 0; k < 10; k++) mx = Math.max(mx, z[k]);
        let se = 0;
        for (let k = 0; k < 10; k++) se += Math.exp(z[k] - mx);
        const lse = mx + Math.log(se);
        lossSum += lse - z[label];
        let best = 0;
        for (let k = 0; k < 10; k++) {
          d[k] = Math.exp(z[k] - lse) - (k === label ? 1 : 0);
          if (z[k] > z[best]) best = k;
        }
        correct += best === label ? 1 : 0;
        seen++;
        // backward
        for (let l = P - 1; l >= 0; l--) {
          const [nIn, nOut] = [LAYERS[l], LAYERS[l + 1]];
          const inp = l === 0 ? xbuf : acts[l - 1];
          const dl = deltas[l], W = m.W[l], g = gW[l];
          for (let j = 0; j < nOut; j++) gb[l][j] += dl[j];
          for (let i = 0; i < nIn; i++) {
            const v = inp[i];
            if (v === 0) continue;
            const o = i * nOut;
            for (let j = 0; j < nOut; j++) g[o + j] += v * dl[j];
          }
          if (l > 0) {
            const dprev = deltas[l - 1], a = acts[l - 1];
            for (let i = 0; i < nIn; i++) {
              if (a[i] <= 0) {
                dprev[i] = 0;
                continue;
              }
              const o = i * nOut;
              let s = 0;
              for (let j = 0; j < nOut; j++) s += W[o + j] * dl[j];
              dprev[i] = s;
            }
          }
        }
      }
      // AdamW with a cosine learning rate
      t++;
      const lr = LR * 0.5 * (1 + Math.cos((Math.PI * (t - 1)) / steps));
      const [b1, b2, eps] = [0.9, 0.999, 1e-8];
      const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
      for (let l = 0; l < P; l++) {
        const upd = (w, g, mm, vv, decay) => {
          for (let k = 0; k < w.length; k++) {
            const gk = g[k] / BATCH;
            mm[k] = b1 * mm[k] + (1 - b1) * gk;
            vv[k] = b2 * vv[k] + (1 - b2) * gk * gk;
            w[k] -= lr * ((mm[k] / c1) / (Math.sqrt(vv[k] / c2) + eps) + decay * w[k]);
          }
        };
        upd(m.W[l], gW[l], mom[l].mW, mom[l].vW, WEIGHT_DECAY);
        upd(m.b[l], gb[l], mom[l].mb, mom[l].vb, 0);
      }
    }
    process.stderr.write(`${which} epoch ${epoch}/${epochs}: loss ${(lossSum / seen).toFixed(4)}, train accuracy (augmented) ${(correct / seen).toFixed(4)}, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const accuracy = (split) => {
    const { classes } = mlpRun(m, split.x, split.n);
    let c = 0;
    for (let i = 0; i < split.n; i++) c += classes[i] === split.y[i] ? 1 : 0;
    return c / split.n;
  };
  const testAccuracy = accuracy(test);
  const testAccuracyBinarized = accuracy(binary.test);
  const bytes = Buffer.from(packMlp(m).buffer);
  const version = `${which}-mlp-v1`;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${version}.bin`), bytes);
  const info = {
    name: `${which}-mlp`,
    version,
    versionNumber: 1,
    dataset: which,
    architecture: {
      type: 'mlp',
      layers: LAYERS,
      activation: 'relu',
      featureLayer: LAYERS.length - 2,
      featureDim: LAYERS[LAYERS.length - 2],
      input: '28×28 pixels in [0,1], row-major (values outside are clipped)',
      weights: 'float32 little-endian: W1 [784×256], b1 [256], W2 [256×64], b2 [64], W3 [64×10], b3 [10]; W row-major [in, out]',
    },
    weights: `${version}.bin`,
    sha256,
    bytes: bytes.length,
    trainedOn: {
      data: `the train split of lab.data.${which === 'mnist' ? 'mnist({ binarize: false })' : 'fashionMnist({ binarize: false, limit: 10000 })'}`,
      images: tr.n,
      fingerprint: grey.fingerprint,
      augmentation: `each image grey, Bernoulli-binarized or thresholded at 0.5 (1/3 each), shifted by up to ${MAX_SHIFT} pixels`,
      epochs,
      batchSize: BATCH,
      optimizer: `AdamW lr ${LR} (cosine to 0), weight decay ${WEIGHT_DECAY}`,
      seed,
      script: 'scripts/train-classifiers.js',
    },
    testAccuracy,
    testAccuracyBinarized,
    testImages: test.n,
    testData: `the test split of lab.data.${which === 'mnist' ? 'mnist' : 'fashionMnist'}(${which === 'mnist' ? '' : '{ limit: 10000 }'}), grey and binarized`,
  };
  writeFileSync(join(outDir, `${version}.json`), JSON.stringify(info, null, 2) + '\n');
  process.stdout.write(`${version}: test accuracy ${(100 * testAccuracy).toFixed(2)} % (grey), ${(100 * testAccuracyBinarized).toFixed(2)} % (binarized), ${test.n} test images; ${bytes.length} bytes, sha256 ${sha256}; ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

for (const which of ['mnist', 'fashion-mnist']) if (!only || only === which) train(which);
