// Reductions in float64 on the CPU side of a model (closed-form fits, exact partition functions).

/** log Σ_i exp(a_i) over a[from..to) in float64 (−Infinity when every term is; Infinity when one is) */
export function logSumExp64(a: ArrayLike<number>, from = 0, to = a.length): number {
  let m = -Infinity;
  for (let i = from; i < to; i++) if (a[i] > m) m = a[i];
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (let i = from; i < to; i++) s += Math.exp(a[i] - m);
  return m + Math.log(s);
}
