// The pinned MNIST / Fashion-MNIST classifiers whose features the sample metrics
// (FID, KID, precision/recall, class coverage) are computed on. Each is a small
// MLP 784 → 256 → 64 → 10 (ReLU) trained by scripts/train-classifiers.js and
// shipped as resources/classifiers/<version>.bin (float32 weights) beside a JSON that
// pins its sha256: a metric is only meaningful with the exact weights that made it,
// so a file that does not match is refused rather than used.
//
// The forward pass is plain JavaScript in float64 (no tf backend), so the features —
// and every FID computed on them — are the same on every backend and machine.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ClassifierInfo {
  /** e.g. 'mnist-mlp' */
  name: string;
  /** e.g. 'mnist-mlp-v1': names the exact weights */
  version: string;
  /** the version as a number (recorded on runs as test/classifier_version) */
  versionNumber: number;
  /** the dataset it classifies: 'mnist' | 'fashion-mnist' */
  dataset: string;
  architecture: { type: 'mlp'; layers: number[]; activation: 'relu'; featureLayer: number; featureDim: number; input: string; weights: string };
  /** the weights file, beside the JSON */
  weights: string;
  /** hex sha256 of the weights file */
  sha256: string;
  bytes: number;
  trainedOn: Record<string, unknown>;
  /** accuracy on the grey test split of lab.data.<dataset>({ binarize: false }) */
  testAccuracy: number;
  /** accuracy on the stochastically binarized test split (lab.data.<dataset>() defaults) */
  testAccuracyBinarized: number;
}

export interface ClassifierOutput {
  /** [n, featureDim] row-major: the ReLU activations of the penultimate layer */
  features: Float64Array;
  /** [n, 10] row-major */
  logits: Float64Array;
  /** argmax class of each row */
  classes: Uint8Array;
}

export interface Classifier {
  info: ClassifierInfo;
  featureDim: number;
  /** features, logits and predicted classes of `n` rows of 784 pixels in [0,1] (values outside are clipped) */
  run(x: ArrayLike<number>, n: number): ClassifierOutput;
}

/** The layers of an MLP as flat float arrays: W[l] is [in, out] row-major, b[l] is [out]. */
export interface MlpWeights {
  layers: number[];
  W: Float32Array[];
  b: Float32Array[];
}

/** Split a flat float32 buffer (W1, b1, W2, b2, ...) into the layers of an MLP. */
export function unpackMlp(flat: Float32Array, layers: number[]): MlpWeights {
  const W: Float32Array[] = [];
  const b: Float32Array[] = [];
  let off = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const [i, o] = [layers[l], layers[l + 1]];
    W.push(flat.subarray(off, off + i * o));
    off += i * o;
    b.push(flat.subarray(off, off + o));
    off += o;
  }
  if (off !== flat.length) throw new Error(`classifier: ${flat.length} weights do not fit the layers ${layers.join('-')} (${off} expected)`);
  return { layers, W, b };
}

/** Concatenate an MLP's layers into one flat buffer (the weights file's layout). */
export function packMlp(m: MlpWeights): Float32Array {
  const total = m.W.reduce((s, w, l) => s + w.length + m.b[l].length, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (let l = 0; l < m.W.length; l++) {
    out.set(m.W[l], off);
    off += m.W[l].length;
    out.set(m.b[l], off);
    off += m.b[l].length;
  }
  return out;
}

/**
 * The forward pass of one row: fills `acts[l]` with layer l+1's pre-activations turned
 * into ReLU activations (the last layer is left linear: the logits). Zero inputs are
 * skipped (most pixels are 0), which makes the first layer ~5x cheaper on digits.
 */
export function mlpForwardRow(m: MlpWeights, x: ArrayLike<number>, offset: number, acts: Float64Array[]): void {
  const L = m.W.length;
  let input: ArrayLike<number> = x;
  let inOff = offset;
  for (let l = 0; l < L; l++) {
    const nIn = m.layers[l];
    const nOut = m.layers[l + 1];
    const W = m.W[l];
    const h = acts[l];
    for (let j = 0; j < nOut; j++) h[j] = m.b[l][j];
    for (let i = 0; i < nIn; i++) {
      let v = input[inOff + i];
      if (l === 0) v = v > 1 ? 1 : v > 0 ? v : 0;
      if (v === 0) continue;
      const row = i * nOut;
      for (let j = 0; j < nOut; j++) h[j] += v * W[row + j];
    }
    if (l < L - 1) for (let j = 0; j < nOut; j++) if (h[j] < 0) h[j] = 0;
    input = h;
    inOff = 0;
  }
}

/** Features (the last hidden layer), logits and argmax classes of `n` rows. */
export function mlpRun(m: MlpWeights, x: ArrayLike<number>, n: number): ClassifierOutput {
  const D = m.layers[0];
  const L = m.W.length;
  if (x.length < n * D) throw new Error(`classifier: ${n} rows of ${D} values need ${n * D} numbers (got ${x.length})`);
  const F = m.layers[L - 1];
  const K = m.layers[L];
  const acts = m.layers.slice(1).map((w) => new Float64Array(w));
  const features = new Float64Array(n * F);
  const logits = new Float64Array(n * K);
  const classes = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    mlpForwardRow(m, x, r * D, acts);
    features.set(acts[L - 2], r * F);
    const out = acts[L - 1];
    logits.set(out, r * K);
    let best = 0;
    for (let k = 1; k < K; k++) if (out[k] > out[best]) best = k;
    classes[r] = best;
  }
  return { features, logits, classes };
}

export const CLASSIFIER_DATASETS = ['mnist', 'fashion-mnist'] as const;
const CURRENT: Record<string, string> = { mnist: 'mnist-mlp-v1', 'fashion-mnist': 'fashion-mnist-mlp-v1' };

/** resources/classifiers of this checkout or app: the nearest one up from here (or from the working directory) */
export function classifiersDir(): string {
  const starts = [typeof __dirname === 'string' ? __dirname : '', process.cwd()].filter(Boolean);
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const cand = path.join(dir, 'resources', 'classifiers');
      if (fs.existsSync(cand)) return cand;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`classifier: cannot find resources/classifiers above ${starts.join(' or ')}`);
}

/** sha256 of a file, hex */
export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

const loaded = new Map<string, Classifier>();

/**
 * The pinned classifier of `dataset` ('mnist' | 'fashion-mnist'), its weights checked
 * against the sha256 in its JSON. `dir` reads another folder (tests); loads are cached.
 */
export function loadClassifier(dataset: string, opts: { dir?: string; version?: string } = {}): Classifier {
  const version = opts.version ?? CURRENT[dataset];
  if (!version) throw new Error(`classifier: no pinned classifier for '${dataset}' (one of ${CLASSIFIER_DATASETS.join(', ')})`);
  const dir = opts.dir ?? classifiersDir();
  const key = `${dir}\0${version}`;
  const hit = loaded.get(key);
  if (hit) return hit;
  const jsonFile = path.join(dir, `${version}.json`);
  if (!fs.existsSync(jsonFile)) throw new Error(`classifier: ${jsonFile} is missing (train it with node scripts/train-classifiers.js)`);
  const info = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as ClassifierInfo;
  const weightsFile = path.join(dir, info.weights);
  if (!fs.existsSync(weightsFile)) throw new Error(`classifier: the weights ${weightsFile} of ${version} are missing`);
  const bytes = fs.readFileSync(weightsFile);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== info.sha256) {
    throw new Error(
      `classifier ${version}: the weights file ${weightsFile} has sha256 ${sha}, not the pinned ${info.sha256}: ` +
        'it was modified or damaged, and metrics on it would not compare with any other; restore it (git checkout) or retrain all with node scripts/train-classifiers.js',
    );
  }
  // copy into an aligned buffer (a Buffer's byteOffset need not be a multiple of 4)
  const flat = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(flat.buffer).set(bytes);
  const m = unpackMlp(flat, info.architecture.layers);
  const clf: Classifier = {
    info,
    featureDim: info.architecture.featureDim,
    run: (x, n) => mlpRun(m, x, n),
  };
  loaded.set(key, clf);
  return clf;
}
