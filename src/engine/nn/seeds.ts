// Seed splitting: independent-looking 31-bit seeds for the draws of one computation,
// so each draw of a seeded evaluation or sampler is reproducible on its own.

/** a 31-bit seed for draw `a` (and `b`) of a computation seeded with `seed`; distinct for distinct (a, b) */
export function subSeed(seed: number, a: number, b?: number): number {
  let h = seed ^ Math.imul(a + 1, 0x9e3779b1);
  if (b !== undefined) h ^= Math.imul(b + 1, 0x85ebca77);
  h >>>= 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h & 0x7fffffff;
}
