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
