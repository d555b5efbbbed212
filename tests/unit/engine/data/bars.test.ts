// Bars and stripes, the Boltzmann machine's data set: every pattern equally often in
// every split, deterministically.
import { describe, expect, it } from 'vitest';
import { barsAndStripes, barsAndStripesPatterns } from '../../../../src/engine/data/bars';

describe('bars and stripes', () => {
  it('holds each of the 2^(size+1) - 2 patterns equally often in every split, deterministically', () => {
    for (const size of [3, 4]) {
      const pats = barsAndStripesPatterns(size);
      expect(pats.length).toBe(2 ** (size + 1) - 2);
      const keys = new Set(pats.map((p) => p.join('')));
      expect(keys.size).toBe(pats.length);
      for (const p of pats) {
        const rowsConst = Array.from({ length: size }, (_, r) => p.slice(r * size, (r + 1) * size).every((v) => v === p[r * size])).every(Boolean);
        const colsConst = Array.from({ length: size }, (_, c) => Array.from({ length: size }, (_, r) => p[r * size + c]).every((v) => v === p[c])).every(Boolean);
        expect(rowsConst || colsConst).toBe(true);
      }
      const data = barsAndStripes({ size, repeats: 10, evalRepeats: 3 });
      expect(data.shape).toEqual([size, size]);
      expect(data.binary).toBe(true);
      expect(data.kind).toBe('image');
      expect(data.settings.entropy).toBeCloseTo(Math.log(pats.length), 12);
      for (const [split, reps] of [[data.train, 10], [data.val, 3], [data.test, 3]] as const) {
        expect(split.n).toBe(pats.length * reps);
        const counts = new Map<string, number>();
        for (let r = 0; r < split.n; r++) {
          const k = split.x.slice(r * data.dim, (r + 1) * data.dim).join('');
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        expect(counts.size).toBe(pats.length);
        for (const c of counts.values()) expect(c).toBe(reps);
      }
    }
    const a = barsAndStripes({ size: 3, seed: 5 });
    const b = barsAndStripes({ size: 3, seed: 5, repeats: 64 });
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(barsAndStripes({ size: 3, seed: 6 }).fingerprint).not.toBe(a.fingerprint);
    expect(barsAndStripes({ size: 4 }).fingerprint).not.toBe(barsAndStripes({ size: 3 }).fingerprint);
  });
});
