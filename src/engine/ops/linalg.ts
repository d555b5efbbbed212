// Small dense linear algebra in float64 on the CPU, where tfjs has none: the
// log |det| of a matrix by LU with partial pivoting (flow tests' brute-force
// Jacobians now; Glow's 1x1 convolutions next).

/** log |det A| of a row-major n x n matrix (-Infinity when singular) */
export function logAbsDet(a: ArrayLike<number>, n: number): number {
  const m = Float64Array.from(a as ArrayLike<number>);
  let logdet = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    const pivot = m[p * n + k];
    if (pivot === 0) return -Infinity;
    if (p !== k) for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
    logdet += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / pivot;
      if (f === 0) continue;
      for (let j = k; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return logdet;
}

/**
 * LU with partial pivoting of a row-major n x n matrix: P A = L U, with L unit lower
 * triangular (its strictly lower part returned), U upper triangular. `perm[i]` is the
 * row of A that became row i. Throws on a singular matrix.
 */
export function luDecompose(a: ArrayLike<number>, n: number): { perm: Int32Array; L: Float64Array; U: Float64Array } {
  const m = Float64Array.from(a as ArrayLike<number>);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (m[p * n + k] === 0) throw new Error('luDecompose: the matrix is singular');
    if (p !== k) {
      for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
      [perm[k], perm[p]] = [perm[p], perm[k]];
    }
    for (let i = k + 1; i < n; i++) {
      const f = (m[i * n + k] /= m[k * n + k]);
      for (let j = k + 1; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  const L = new Float64Array(n * n), U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) (j < i ? L : U)[i * n + j] = m[i * n + j];
  return { perm, L, U };
}

/** The inverse of a row-major n x n matrix (Gauss-Jordan with partial pivoting, float64). */
export function invert(a: ArrayLike<number>, n: number): Float64Array {
  const m = Float64Array.from(a as ArrayLike<number>);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (m[p * n + k] === 0) throw new Error('invert: the matrix is singular');
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
        [inv[k * n + j], inv[p * n + j]] = [inv[p * n + j], inv[k * n + j]];
      }
    }
    const d = m[k * n + k];
    for (let j = 0; j < n; j++) {
      m[k * n + j] /= d;
      inv[k * n + j] /= d;
    }
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = m[i * n + k];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        m[i * n + j] -= f * m[k * n + j];
        inv[i * n + j] -= f * inv[k * n + j];
      }
    }
  }
  return inv;
}

/** A seeded random rotation (orthogonal, det +-1): Gram-Schmidt on a Gaussian matrix. */
export function randomRotation(n: number, normal: () => number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (;;) {
      for (let j = 0; j < n; j++) q[i * n + j] = normal();
      for (let k = 0; k < i; k++) {
        let dot = 0;
        for (let j = 0; j < n; j++) dot += q[i * n + j] * q[k * n + j];
        for (let j = 0; j < n; j++) q[i * n + j] -= dot * q[k * n + j];
      }
      let norm = 0;
      for (let j = 0; j < n; j++) norm += q[i * n + j] ** 2;
      norm = Math.sqrt(norm);
      if (norm < 1e-6) continue;
      for (let j = 0; j < n; j++) q[i * n + j] /= norm;
      break;
    }
  }
  return q;
}

/**
 * Eigen-decomposition of a symmetric row-major n x n matrix by cyclic Jacobi
 * rotations (float64): A = V diag(values) V^T. `values` descend; `vectors` is row-major
 * with eigenvector k in column k. Only the upper triangle is trusted to be symmetric.
 */
export function symEig(a: ArrayLike<number>, n: number, opts: { tol?: number; maxSweeps?: number } = {}): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a as ArrayLike<number>);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    const s = 0.5 * (m[i * n + j] + m[j * n + i]);
    m[i * n + j] = s;
    m[j * n + i] = s;
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const tol = opts.tol ?? 1e-14;
  const maxSweeps = opts.maxSweeps ?? 100;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += m[i] * m[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i * n + j] ** 2;
    if (off <= tol * tol * scale || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // rotate columns p and q
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          // rotate rows p and q
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, k) => {
    values[k] = m[src * n + src];
    for (let r = 0; r < n; r++) vectors[r * n + k] = v[r * n + src];
  });
  return { values, vectors };
}

/**
 * The lower-triangular Cholesky factor L (row-major, A = L L^T) of a symmetric positive
 * definite n x n matrix, in float64. Throws when A is not positive definite.
 */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error('cholesky: the matrix is not positive definite');
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

/** The symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues clipped to 0). */
export function sqrtmSym(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symEig(a, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(0, values[k]));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vi = vectors[i * n + k] * s;
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += vi * vectors[j * n + k];
    }
  }
  return out;
}
