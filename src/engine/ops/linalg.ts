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
