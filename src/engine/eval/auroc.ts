// Area under the ROC curve of telling two samples apart by a score (higher = more
// likely "positive"): the Mann-Whitney statistic P(pos > neg) + P(pos = neg) / 2,
// exact, in O((m + n) log(m + n)).

export function auroc(neg: ArrayLike<number>, pos: ArrayLike<number>): number {
  const m = neg.length;
  const n = pos.length;
  if (m === 0 || n === 0) throw new Error('auroc: both samples need at least one value');
  const all: [number, number][] = [];
  for (let i = 0; i < m; i++) all.push([neg[i], 0]);
  for (let i = 0; i < n; i++) all.push([pos[i], 1]);
  all.sort((a, b) => a[0] - b[0]);
  // average ranks over ties, then the rank sum of the positives
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const avg = (i + 1 + j) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++) if (all[k][1] === 1) rankSum += avg;
    i = j;
  }
  return (rankSum - (n * (n + 1)) / 2) / (m * n);
}
