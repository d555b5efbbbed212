// Maximum mean discrepancy between two samples (Gretton et al. 2012), in float64 on
// the CPU: the sample metric for 2-D and tabular data, and GMMN's objective's
// reference value. MMD² = E k(x,x') + E k(y,y') − 2 E k(x,y); zero iff the
// distributions match for a characteristic kernel (the Gaussian is one).

export interface MmdOptions {
  /**
   * Gaussian kernel bandwidths σ (k = exp(−‖a−b‖² / 2σ²)), summed; default: the median
   * pairwise distance of the pooled sample, times 0.5, 1 and 2
   */
  bandwidths?: number[];
  /** 'unbiased' (U-statistic, may be slightly negative; default) or 'biased' (V-statistic, ≥ 0) */
  estimator?: 'unbiased' | 'biased';
}

function sqDist(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const t = a[i * dim + d] - b[j * dim + d];
    s += t * t;
  }
  return s;
}

/** the median pairwise distance of the pooled rows (at most 500 of each sample) */
export function medianDistance(x: ArrayLike<number>, y: ArrayLike<number>, dim: number): number {
  const nx = Math.min(500, Math.floor(x.length / dim));
  const ny = Math.min(500, Math.floor(y.length / dim));
  const rows: [ArrayLike<number>, number][] = [];
  for (let i = 0; i < nx; i++) rows.push([x, i]);
  for (let i = 0; i < ny; i++) rows.push([y, i]);
  const d: number[] = [];
  for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) d.push(Math.sqrt(sqDist(rows[i][0], rows[i][1], rows[j][0], rows[j][1], dim)));
  if (d.length === 0) return 1;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] || 1;
}

/** MMD² between rows of x [nx, dim] and y [ny, dim] (row-major flat arrays) */
export function mmd2(x: ArrayLike<number>, y: ArrayLike<number>, dim: number, opts: MmdOptions = {}): number {
  const nx = Math.floor(x.length / dim);
  const ny = Math.floor(y.length / dim);
  if (nx < 2 || ny < 2) throw new Error('mmd: each sample needs at least 2 rows');
  const med = opts.bandwidths ? 0 : medianDistance(x, y, dim);
  const bw = opts.bandwidths ?? [0.5 * med, med, 2 * med];
  const inv = bw.map((s) => 1 / (2 * s * s));
  const k = (d2: number) => {
    let s = 0;
    for (const c of inv) s += Math.exp(-d2 * c);
    return s;
  };
  const unbiased = (opts.estimator ?? 'unbiased') === 'unbiased';
  let kxx = 0;
  for (let i = 0; i < nx; i++) for (let j = i + 1; j < nx; j++) kxx += k(sqDist(x, i, x, j, dim));
  let kyy = 0;
  for (let i = 0; i < ny; i++) for (let j = i + 1; j < ny; j++) kyy += k(sqDist(y, i, y, j, dim));
  let kxy = 0;
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) kxy += k(sqDist(x, i, y, j, dim));
  if (unbiased) return (2 * kxx) / (nx * (nx - 1)) + (2 * kyy) / (ny * (ny - 1)) - (2 * kxy) / (nx * ny);
  const diag = bw.length; // k(a, a) for every row
  return (2 * kxx + nx * diag) / (nx * nx) + (2 * kyy + ny * diag) / (ny * ny) - (2 * kxy) / (nx * ny);
}

/** MMD (the square root of the biased MMD², ≥ 0): the number reported as `mmd` */
export function mmd(x: ArrayLike<number>, y: ArrayLike<number>, dim: number, opts: Omit<MmdOptions, 'estimator'> = {}): number {
  return Math.sqrt(Math.max(0, mmd2(x, y, dim, { ...opts, estimator: 'biased' })));
}
