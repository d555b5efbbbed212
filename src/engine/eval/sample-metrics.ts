// Sample-quality metrics, for models judged by their samples (a GAN has no
// likelihood) and beside the likelihood of those that have one. All in float64 on
// the CPU, on the features of the pinned classifier (classifier.ts) for MNIST /
// Fashion-MNIST images:
//  - FID (Heusel et al. 2017): the Fréchet distance between Gaussians fitted to the
//    two feature sets, ‖μ₁−μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}). Tr((Σ₁Σ₂)^{1/2}) is the
//    sum of the square roots of the eigenvalues of Σ₁^{1/2} Σ₂ Σ₁^{1/2} (symmetric, PSD),
//    which has the same spectrum as Σ₁Σ₂. FID is biased upwards at small n (the
//    covariances are estimated): only values with the same n compare.
//  - KID (Bińkowski et al. 2018): the unbiased MMD² with the cubic polynomial kernel
//    k(x, y) = (x·y/d + 1)³, averaged over random subsets, with its spread.
//  - precision / recall on k-NN manifolds (Kynkäänniemi et al. 2019): a sample is
//    "precise" when it falls inside some real feature's ball (radius: the distance to
//    that real's k-th nearest real neighbour); recall swaps the roles.
//  - class coverage: the classifier's predicted classes of the samples; a class is
//    covered when it gets at least half of a uniform share; plus the histogram's entropy.
//  - nearest neighbours in pixel space: each sample's closest training image, with the
//    test images' own distances as the baseline (a ratio far below 1 = memorisation).
// For 2-D and tabular data the sample metric is MMD with Gaussian kernels (mmd.ts).
import type { Split } from '../data/types';
import { sqrtmSym, symEig } from '../ops/linalg';
import { mulberry32 } from '../util/rng';
import { loadClassifier, type Classifier } from './classifier';
import { mmd } from './mmd';

export interface GaussianFit {
  /** [d] */
  mu: Float64Array;
  /** [d, d] row-major, the unbiased (n − 1) covariance */
  sigma: Float64Array;
  d: number;
  n: number;
}

/** Mean and covariance of `n` rows of `d` features (row-major). */
export function gaussianFit(f: ArrayLike<number>, n: number, d: number): GaussianFit {
  if (!(n >= 2)) throw new Error(`sample metrics: a Gaussian fit needs at least 2 rows (got ${n})`);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += f[i * d + j];
  for (let j = 0; j < d; j++) mu[j] /= n;
  const sigma = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = f[i * d + j] - mu[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) sigma[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = sigma[a * d + b] / (n - 1);
      sigma[a * d + b] = v;
      sigma[b * d + a] = v;
    }
  }
  return { mu, sigma, d, n };
}

/**
 * The Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂):
 * ‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Σᵢ √λᵢ(Σ₁^{1/2} Σ₂ Σ₁^{1/2}). Never below 0 (round-off
 * below 0 is reported as 0).
 */
export function frechetDistance(a: GaussianFit, b: GaussianFit): number {
  const d = a.d;
  if (b.d !== d) throw new Error(`sample metrics: feature dimensions differ (${a.d} and ${b.d})`);
  let dm = 0;
  for (let j = 0; j < d; j++) dm += (a.mu[j] - b.mu[j]) ** 2;
  let tr = 0;
  for (let j = 0; j < d; j++) tr += a.sigma[j * d + j] + b.sigma[j * d + j];
  const s1h = sqrtmSym(a.sigma, d);
  // M = S1h Σ₂ S1h (symmetric)
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const v = s1h[i * d + k];
      if (v === 0) continue;
      for (let j = 0; j < d; j++) t[i * d + j] += v * b.sigma[k * d + j];
    }
  }
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const v = t[i * d + k];
      if (v === 0) continue;
      for (let j = 0; j < d; j++) m[i * d + j] += v * s1h[k * d + j];
    }
  }
  const { values } = symEig(m, d);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(0, v));
  const fd = dm + tr - 2 * trSqrt;
  if (!Number.isFinite(fd)) throw new Error(`sample metrics: a non-finite Fréchet distance (${fd}): the features hold NaN or Inf`);
  return Math.max(0, fd);
}

/** FID between two feature sets (rows of `d` features). */
export function fid(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, d: number): number {
  return frechetDistance(gaussianFit(a, na, d), gaussianFit(b, nb, d));
}

const MAX_KID_ROWS = 2000;

export interface KidOptions {
  /** random subsets averaged (default 100) */
  subsets?: number;
  /** rows of each side per subset (default min(1000, half the smaller set), at least 2) */
  subsetSize?: number;
  /** seed of the subsets (default 0) */
  seed?: number;
}

/**
 * KID: the unbiased MMD² between two feature sets with the kernel (x·y/d + 1)³, averaged
 * over `subsets` random subsets (drawn without replacement within a subset); `std` is the
 * spread of the subset estimates. Its expectation is 0 when the sets come from one distribution.
 * Uses at most the first 2000 rows of each side.
 */
export function kid(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, d: number, opts: KidOptions = {}): { kid: number; std: number; subsets: number; subsetSize: number } {
  if (na < 2 || nb < 2) throw new Error('sample metrics: KID needs at least 2 rows on each side');
  // the kernel matrices are kept whole: at most the first MAX_KID_ROWS rows of each side
  na = Math.min(na, MAX_KID_ROWS);
  nb = Math.min(nb, MAX_KID_ROWS);
  const subsets = Math.max(1, Math.floor(opts.subsets ?? 100));
  const m = Math.max(2, Math.min(Math.floor(opts.subsetSize ?? Math.min(1000, Math.floor(Math.min(na, nb) / 2))), na, nb));
  // the kernel of every pair, once (float32 halves the memory; subsets only sum them)
  const gram = (x: ArrayLike<number>, nx: number, y: ArrayLike<number>, ny: number): Float32Array => {
    const g = new Float32Array(nx * ny);
    for (let i = 0; i < nx; i++) {
      for (let j = 0; j < ny; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += x[i * d + k] * y[j * d + k];
        g[i * ny + j] = (s / d + 1) ** 3;
      }
    }
    return g;
  };
  const kxx = gram(a, na, a, na);
  const kyy = gram(b, nb, b, nb);
  const kxy = gram(a, na, b, nb);
  const rng = mulberry32(opts.seed ?? 0);
  const pick = (n: number): Int32Array => {
    // a partial Fisher-Yates shuffle: m distinct rows
    const p = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(n - i);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p.subarray(0, m);
  };
  const est: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const ia = pick(na);
    const ib = pick(nb);
    let sxx = 0, syy = 0, sxy = 0;
    for (let u = 0; u < m; u++) {
      for (let v = 0; v < m; v++) {
        if (u !== v) {
          sxx += kxx[ia[u] * na + ia[v]];
          syy += kyy[ib[u] * nb + ib[v]];
        }
        sxy += kxy[ia[u] * nb + ib[v]];
      }
    }
    est.push((sxx + syy) / (m * (m - 1)) - (2 * sxy) / (m * m));
  }
  const mean = est.reduce((x, y) => x + y, 0) / est.length;
  const std = est.length > 1 ? Math.sqrt(est.reduce((x, y) => x + (y - mean) ** 2, 0) / (est.length - 1)) : 0;
  if (!Number.isFinite(mean)) throw new Error(`sample metrics: a non-finite KID (${mean}): the features hold NaN or Inf`);
  return { kid: mean, std, subsets, subsetSize: m };
}

const sqNorms = (x: ArrayLike<number>, n: number, d: number): Float64Array => {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) out[i] += x[i * d + k] ** 2;
  return out;
};

/** squared L2 distance of row i of x and row j of y, from their squared norms */
function sqDist(x: ArrayLike<number>, i: number, xn: Float64Array, y: ArrayLike<number>, j: number, yn: Float64Array, d: number): number {
  let s = 0;
  const a = i * d, b = j * d;
  for (let k = 0; k < d; k++) s += x[a + k] * y[b + k];
  return Math.max(0, xn[i] + yn[j] - 2 * s);
}

/** each row's squared distance to its k-th nearest other row (the row itself excluded) */
function kthRadii(x: ArrayLike<number>, n: number, d: number, k: number): Float64Array {
  const xn = sqNorms(x, n, d);
  const r = new Float64Array(n);
  const best = new Float64Array(k); // the k smallest so far, ascending
  for (let i = 0; i < n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const v = sqDist(x, i, xn, x, j, xn, d);
      if (v >= best[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1] > v) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = v;
    }
    r[i] = best[k - 1];
  }
  return r;
}

/** the share of `query` rows inside at least one ball (centre a `ball` row, squared radius `radii`) */
function coveredShare(query: ArrayLike<number>, nq: number, ball: ArrayLike<number>, nb: number, radii: Float64Array, d: number): number {
  const qn = sqNorms(query, nq, d);
  const bn = sqNorms(ball, nb, d);
  let inside = 0;
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < nb; j++) {
      if (sqDist(query, i, qn, ball, j, bn, d) <= radii[j]) {
        inside++;
        break;
      }
    }
  }
  return inside / nq;
}

/**
 * Precision and recall of `fake` against `real` on k-NN manifolds (k = 3): precision is
 * the share of fake rows inside the union of the real rows' k-NN balls, recall the share
 * of real rows inside the fake rows' balls. Both depend on the set sizes (the balls
 * shrink as sets grow): compare them at equal sizes.
 */
export function precisionRecall(real: ArrayLike<number>, nr: number, fake: ArrayLike<number>, nf: number, d: number, opts: { k?: number } = {}): { precision: number; recall: number } {
  const k = Math.max(1, Math.floor(opts.k ?? 3));
  if (nr <= k || nf <= k) throw new Error(`sample metrics: precision/recall with k = ${k} need more than ${k} rows on each side (got ${nr} and ${nf})`);
  const realR = kthRadii(real, nr, d, k);
  const fakeR = kthRadii(fake, nf, d, k);
  return { precision: coveredShare(fake, nf, real, nr, realR, d), recall: coveredShare(real, nr, fake, nf, fakeR, d) };
}

export interface ClassCoverage {
  /** classes that get at least half of a uniform share (n / 2K) of the samples */
  covered: number;
  classes: number;
  /** entropy of the predicted-class histogram, nats (ln K when uniform) */
  entropy: number;
  histogram: number[];
}

/** How the predicted classes of samples spread over `classes` classes. */
export function classCoverage(predicted: ArrayLike<number>, classes = 10): ClassCoverage {
  const n = predicted.length;
  if (n === 0) throw new Error('sample metrics: class coverage of no samples');
  const histogram = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) histogram[predicted[i]]++;
  let covered = 0;
  let entropy = 0;
  for (const c of histogram) {
    if (c >= (0.5 * n) / classes) covered++;
    if (c > 0) entropy -= (c / n) * Math.log(c / n);
  }
  return { covered, classes, entropy, histogram };
}

/** Each query row's nearest pool row in L2 (index and distance, not squared). */
export function nearestNeighbours(query: ArrayLike<number>, nq: number, pool: ArrayLike<number>, np: number, d: number): { index: Int32Array; distance: Float64Array } {
  const pn = new Float64Array(np);
  for (let j = 0; j < np; j++) for (let k = 0; k < d; k++) pn[j] += pool[j * d + k] ** 2;
  const index = new Int32Array(nq);
  const distance = new Float64Array(nq);
  const q = new Float64Array(d);
  for (let i = 0; i < nq; i++) {
    let qn = 0;
    for (let k = 0; k < d; k++) {
      q[k] = query[i * d + k];
      qn += q[k] * q[k];
    }
    let best = Infinity, bi = -1;
    for (let j = 0; j < np; j++) {
      let s = 0;
      const o = j * d;
      for (let k = 0; k < d; k++) s += q[k] * pool[o + k];
      const d2 = qn + pn[j] - 2 * s;
      if (d2 < best) {
        best = d2;
        bi = j;
      }
    }
    index[i] = bi;
    distance[i] = Math.sqrt(Math.max(0, best));
  }
  return { index, distance };
}

export type ImageSampleMetrics = LatentLab.ImageSampleMetrics;

export type PointSampleMetrics = LatentLab.PointSampleMetrics;

export type SampleMetrics = ImageSampleMetrics | PointSampleMetrics;

export interface SampleMetricOptions {
  /** seed of KID's subsets (default 0) */
  seed?: number;
  /** at most this many rows of the reference split (its first; splits are shuffled; default 2000) */
  maxReference?: number;
  /** k of the k-NN manifolds (default 3) */
  k?: number;
  /** KID subsets (default 100) */
  kidSubsets?: number;
}

const refFeatures = new WeakMap<Float32Array, Map<string, { n: number; features: Float64Array }>>();

/** the classifier's features of the first `n` rows of a split, cached per split and classifier */
function referenceFeatures(clf: Classifier, split: Split, n: number): Float64Array {
  let per = refFeatures.get(split.x);
  if (!per) refFeatures.set(split.x, (per = new Map()));
  const hit = per.get(clf.info.version);
  if (hit && hit.n === n) return hit.features;
  const features = clf.run(split.x, n).features;
  per.set(clf.info.version, { n, features });
  return features;
}

/**
 * FID, KID, precision/recall and class coverage of `n` image samples [n, 784] against
 * a split of `dataset` ('mnist' | 'fashion-mnist'), on its pinned classifier's features.
 */
export function imageSampleMetrics(samples: Float32Array, n: number, reference: Split, dataset: string, opts: SampleMetricOptions = {}): ImageSampleMetrics {
  const clf = loadClassifier(dataset);
  const D = clf.info.architecture.layers[0];
  if (samples.length !== n * D) throw new Error(`sample metrics: ${dataset} samples need ${D} pixels each (got ${samples.length / n})`);
  if (reference.x.length !== reference.n * D) throw new Error(`sample metrics: the ${dataset} reference split needs ${D} pixels a row`);
  const nRef = Math.min(reference.n, Math.max(2, Math.floor(opts.maxReference ?? 2000)));
  const F = clf.featureDim;
  const real = referenceFeatures(clf, reference, nRef);
  const out = clf.run(samples, n);
  const fake = out.features;
  const k = kid(real, nRef, fake, n, F, { seed: opts.seed ?? 0, subsets: opts.kidSubsets });
  const pr = precisionRecall(real, nRef, fake, n, F, { k: opts.k });
  const cov = classCoverage(out.classes, clf.info.architecture.layers[clf.info.architecture.layers.length - 1]);
  return {
    kind: 'sample',
    fid: fid(real, nRef, fake, n, F),
    kid: k.kid,
    kidStd: k.std,
    precision: pr.precision,
    recall: pr.recall,
    classCoverage: cov.covered,
    classEntropy: cov.entropy,
    classHistogram: cov.histogram,
    n,
    nRef,
    classifier: clf.info.version,
    classifierVersion: clf.info.versionNumber,
  };
}

/** MMD of `n` samples [n, dim] against a split (2-D and tabular data). */
export function pointSampleMetrics(samples: Float32Array, n: number, reference: Split, dim: number, opts: SampleMetricOptions = {}): PointSampleMetrics {
  if (samples.length !== n * dim) throw new Error(`sample metrics: samples need ${dim} values each (got ${samples.length / n})`);
  const nRef = Math.min(reference.n, Math.max(2, Math.floor(opts.maxReference ?? 2000)));
  const value = mmd(samples, reference.x.subarray(0, nRef * dim), dim);
  if (!Number.isFinite(value)) throw new Error(`sample metrics: a non-finite MMD (${value}): the samples hold NaN or Inf`);
  return { kind: 'sample', mmd: value, n, nRef };
}
