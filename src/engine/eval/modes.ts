// Sample metrics for 2-D mixtures with known modes (8 / 25 Gaussians).

export interface ModeStats {
  /** mean distance of a sample to its nearest mode */
  meanDist: number;
  /** modes that received at least `minShare` of the samples within 3 std */
  covered: number;
  /** fraction of samples within 3 std of some mode */
  highQuality: number;
}

export function modeStats(points: Float32Array | number[], modes: number[][], std: number, minShare = 0.01): ModeStats {
  const n = Math.floor(points.length / 2);
  const counts = new Array<number>(modes.length).fill(0);
  let sum = 0;
  let good = 0;
  const radius = 3 * Math.max(std, 1e-3);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    let best = Infinity;
    let arg = -1;
    for (let k = 0; k < modes.length; k++) {
      const d = Math.hypot(x - modes[k][0], y - modes[k][1]);
      if (d < best) {
        best = d;
        arg = k;
      }
    }
    sum += best;
    if (best <= radius) {
      good++;
      counts[arg]++;
    }
  }
  const need = Math.max(1, Math.ceil(minShare * n));
  return {
    meanDist: n > 0 ? sum / n : NaN,
    covered: counts.filter((c) => c >= need).length,
    highQuality: n > 0 ? good / n : 0,
  };
}
