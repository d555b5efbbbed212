// Hopfield network (Hopfield 1982): N binary units s_i in {-1, +1}, symmetric weights
// from the Hebbian rule W = (1/N) sum_p xi_p xi_p^T with a zero diagonal, and the
// energy E(s) = -1/2 s^T W s. An asynchronous update s_i <- sign(sum_j W_ij s_j)
// changes E by -|Δs_i| |h_i| <= 0, so recall descends the energy to a fixed point:
// a stored pattern when few are stored, a spurious mixture once their number passes
// about 0.138 N (Amit, Gutfreund & Sompolinsky).
//
// Storing is one-shot, so this is not a `Model` for lab.train: a notebook stores
// patterns, corrupts one and watches recall (or sweeps the load with `capacity`).
// Patterns come as 0/1 or ±1 values (Float32Array or number[]); inside, units are ±1.
import { mulberry32, permutation } from '../../util/rng';

export type PatternLike = ArrayLike<number>;

export type HopfieldConfig = LatentLab.HopfieldConfig;

export interface RecallOptions {
  /** most sweeps (async: N unit updates each; sync: one update of every unit at once); default 100 */
  steps?: number;
  /** 'async' (default): one unit at a time in a seeded random order, new order each sweep; 'sync': all at once */
  mode?: 'async' | 'sync';
  /** seed of the update order (default 0) */
  seed?: number;
  /**
   * a frame every this many updates: async counts single-unit updates (1 = every
   * update, default N = once per sweep), sync counts whole-state steps (default 1)
   */
  every?: number;
}

export interface RecallResult {
  /** the states seen, as 0/1 for display: the start, then every `every` updates, and the end */
  frames: Float32Array[];
  /** the energy of each frame */
  energies: number[];
  /** the final state, in ±1 */
  state: Float32Array;
  /** whether the final state is a fixed point (a whole sweep changed nothing) */
  converged: boolean;
  /** sweeps run (the last one, at a fixed point, included) */
  sweeps: number;
  /** units flipped in all */
  flips: number;
}

export interface CapacityOptions {
  /** units N (default 100) */
  units?: number;
  /** numbers of stored patterns to try */
  counts: number[];
  /** fraction of bits flipped in each probe (default 0.1) */
  flip?: number;
  /** independent networks per count (default 5) */
  trials?: number;
  /** seed of the patterns, corruptions and update orders (default 0) */
  seed?: number;
  /** most sweeps per recall (default 50) */
  steps?: number;
}

export interface CapacityResult {
  units: number;
  counts: number[];
  /** counts / units: the load alpha */
  load: number[];
  /** fraction of probes whose recall ends at overlap >= 0.99 with the stored pattern */
  recalled: number[];
  /** fraction of probes recalled bit for bit */
  exact: number[];
  /** mean final overlap with the stored pattern */
  overlap: number[];
  flip: number;
  trials: number;
  /** the asymptotic capacity 0.138 N, for a reference line */
  theory: number;
}

/** ±1 copy of a pattern: a pattern with a negative value is read as ±1 (sign), else as 0/1 (threshold 0.5). */
export function toSpins(p: PatternLike, units?: number): Float32Array {
  if (units !== undefined && p.length !== units) throw new Error(`hopfield: a pattern has ${p.length} values but the network has ${units} units`);
  let signed = false;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (!Number.isFinite(v)) throw new Error(`hopfield: pattern value ${v} at ${i} is not a number`);
    if (v < 0) signed = true;
  }
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = signed ? (p[i] > 0 ? 1 : -1) : p[i] >= 0.5 ? 1 : -1;
  return out;
}

/** 0/1 copy of a ±1 state */
export function toBits(s: PatternLike): Float32Array {
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] > 0 ? 1 : 0;
  return out;
}

/** m = (1/N) sum_i a_i b_i, both read as ±1: 1 for equal patterns, -1 for opposite ones */
export function overlap(a: PatternLike, b: PatternLike): number {
  if (a.length !== b.length) throw new Error(`hopfield: overlap of patterns of different lengths (${a.length} vs ${b.length})`);
  const sa = toSpins(a);
  const sb = toSpins(b);
  let m = 0;
  for (let i = 0; i < sa.length; i++) m += sa[i] * sb[i];
  return m / sa.length;
}

/**
 * A copy of `pattern` with exactly round(fraction N) bits flipped at seeded random
 * places, in the pattern's own convention (0/1 stays 0/1, ±1 stays ±1).
 */
export function corrupt(pattern: PatternLike, fraction: number, seed = 0): Float32Array {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`hopfield: corrupt fraction must be in [0, 1], got ${fraction}`);
  const N = pattern.length;
  let signed = false;
  for (let i = 0; i < N; i++) if (pattern[i] < 0) signed = true;
  const s = toSpins(pattern);
  const k = Math.round(fraction * N);
  const perm = permutation(N, mulberry32(seed));
  for (let j = 0; j < k; j++) s[perm[j]] = -s[perm[j]];
  return signed ? s : toBits(s);
}

/** `count` random ±1 patterns of `units` units (each unit ±1 with probability 1/2) */
export function randomPatterns(count: number, units: number, seed = 0): Float32Array[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: units }, () => (rng.next() < 0.5 ? -1 : 1)));
}

function asPatternList(patterns: PatternLike | PatternLike[]): PatternLike[] {
  if (patterns instanceof Float32Array || patterns instanceof Float64Array) return [patterns];
  if (Array.isArray(patterns) && patterns.length > 0 && typeof patterns[0] === 'number') return [patterns as unknown as number[]];
  return patterns as PatternLike[];
}

export class Hopfield {
  readonly family = 'hopfield';
  readonly config: { units: number };
  readonly units: number;
  /**
   * N x N, row-major: sum_p xi_p xi_p^T with a zero diagonal, kept as integers so that
   * fields are exact (a field of exactly 0 is a tie, never a rounding error); W = C / N
   */
  private readonly C: Float64Array;
  private stored = 0;

  constructor(cfg: HopfieldConfig) {
    const units = cfg?.units;
    if (!Number.isInteger(units) || units < 2) throw new Error(`hopfield: units must be an integer >= 2, got ${units}`);
    if (units > 4096) throw new Error(`hopfield: at most 4096 units (the weights are N x N), got ${units}`);
    this.units = units;
    this.config = { units };
    this.C = new Float64Array(units * units);
  }

  /** how many patterns have been stored */
  get patterns(): number {
    return this.stored;
  }

  /**
   * Adds patterns with the Hebbian rule W += (1/N) xi xi^T (zero diagonal); calls
   * accumulate. One pattern or a list; 0/1 or ±1 values.
   */
  store(patterns: PatternLike | PatternLike[]): this {
    const N = this.units;
    for (const p of asPatternList(patterns)) {
      const xi = toSpins(p, N);
      for (let i = 0; i < N; i++) {
        const a = xi[i];
        const row = i * N;
        for (let j = 0; j < N; j++) if (j !== i) this.C[row + j] += a * xi[j];
      }
      this.stored++;
    }
    return this;
  }

  /** forget every stored pattern */
  clear(): void {
    this.C.fill(0);
    this.stored = 0;
  }

  /** a copy of the weights, N x N row-major */
  weights(): Float64Array {
    const N = this.units;
    return this.C.map((c) => c / N);
  }

  /** E(s) = -1/2 s^T W s (s read as ±1) */
  energy(state: PatternLike): number {
    const s = toSpins(state, this.units);
    return this.energyOf(s);
  }

  private energyOf(s: Float32Array): number {
    const N = this.units;
    let e = 0;
    for (let i = 0; i < N; i++) e += s[i] * this.field(s, i);
    return -0.5 * e;
  }

  /** local field h_i = sum_j W_ij s_j (an integer sum, then / N: exact) */
  private field(s: Float32Array, i: number): number {
    const N = this.units;
    const row = i * N;
    let h = 0;
    for (let j = 0; j < N; j++) h += this.C[row + j] * s[j];
    return h / N;
  }

  /**
   * Runs the network from `state` until a fixed point or `steps` sweeps. A unit whose
   * field is exactly 0 keeps its value (so energy never rises and ties cannot cycle).
   */
  recall(state: PatternLike, opts: RecallOptions = {}): RecallResult {
    const N = this.units;
    const mode = opts.mode ?? 'async';
    if (mode !== 'async' && mode !== 'sync') throw new Error(`hopfield: mode must be 'async' or 'sync', got '${mode}'`);
    const maxSweeps = Math.max(1, Math.floor(opts.steps ?? 100));
    const every = Math.max(1, Math.floor(opts.every ?? (mode === 'async' ? N : 1)));
    const rng = mulberry32(opts.seed ?? 0);
    const s = toSpins(state, N);
    const frames: Float32Array[] = [toBits(s)];
    // async flips change E by -(new - old) h_i: the energy is kept up to date as it goes
    let e = this.energyOf(s);
    const energies: number[] = [e];
    let sinceFrame = 0;
    const frame = () => {
      frames.push(toBits(s));
      energies.push(e);
      sinceFrame = 0;
    };
    let converged = false;
    let sweeps = 0;
    let flips = 0;
    while (sweeps < maxSweeps && !converged) {
      sweeps++;
      let changed = 0;
      if (mode === 'async') {
        const order = permutation(N, rng);
        for (let k = 0; k < N; k++) {
          const i = order[k];
          const h = this.field(s, i);
          const v = h > 0 ? 1 : h < 0 ? -1 : s[i];
          if (v !== s[i]) {
            e -= (v - s[i]) * h;
            s[i] = v;
            changed++;
          }
          if (++sinceFrame === every) frame();
        }
      } else {
        const h = new Float64Array(N);
        for (let i = 0; i < N; i++) h[i] = this.field(s, i);
        for (let i = 0; i < N; i++) {
          const v = h[i] > 0 ? 1 : h[i] < 0 ? -1 : s[i];
          if (v !== s[i]) {
            s[i] = v;
            changed++;
          }
        }
        e = this.energyOf(s);
        if (++sinceFrame === every) frame();
      }
      flips += changed;
      converged = changed === 0;
    }
    if (sinceFrame > 0) frame();
    return { frames, energies, state: s, converged, sweeps, flips };
  }

  /** m = (1/N) sum_i a_i b_i in ±1 */
  overlap(a: PatternLike, b: PatternLike): number {
    return overlap(a, b);
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, units: this.units, patterns: this.stored };
  }

  /** see `capacity` */
  static capacity(opts: CapacityOptions): CapacityResult {
    return capacity(opts);
  }
}

/**
 * Where storage runs out: for each count P, `trials` networks of `units` units each
 * store P random patterns; every stored pattern, with `flip` of its bits flipped, is
 * recalled asynchronously, and counts as recalled when the end state's overlap with it
 * is >= 0.99. The rate falls steeply near P = 0.138 N.
 */
export function capacity(opts: CapacityOptions): CapacityResult {
  const units = opts.units ?? 100;
  const flip = opts.flip ?? 0.1;
  const trials = Math.max(1, Math.floor(opts.trials ?? 5));
  const steps = opts.steps ?? 50;
  const counts = opts.counts;
  if (!Array.isArray(counts) || counts.length === 0 || !counts.every((c) => Number.isInteger(c) && c >= 1)) {
    throw new Error('hopfield.capacity: counts must be a non-empty list of positive integers');
  }
  const rng = mulberry32(opts.seed ?? 0);
  const recalled: number[] = [];
  const exact: number[] = [];
  const meanOverlap: number[] = [];
  for (const P of counts) {
    let ok = 0;
    let same = 0;
    let m = 0;
    let probes = 0;
    for (let t = 0; t < trials; t++) {
      const pats = randomPatterns(P, units, rng.seed());
      const net = new Hopfield({ units }).store(pats);
      for (const p of pats) {
        const probe = corrupt(p, flip, rng.seed());
        const { state } = net.recall(probe, { steps, seed: rng.seed() });
        const o = overlap(state, p);
        if (o >= 0.99) ok++;
        if (o === 1) same++;
        m += o;
        probes++;
      }
    }
    recalled.push(ok / probes);
    exact.push(same / probes);
    meanOverlap.push(m / probes);
  }
  return { units, counts: counts.slice(), load: counts.map((c) => c / units), recalled, exact, overlap: meanOverlap, flip, trials, theory: 0.138 * units };
}
