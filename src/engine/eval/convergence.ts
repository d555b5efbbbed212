// Whether a likelihood estimate has converged in its knob (AIS temperatures, IWAE's k):
// the estimator runs again at 4× the knob with an independent seed, and the two are
// set side by side in LatentLab.Convergence.
//
// What is reported, and why:
//  - AIS (an estimate of log Z, hence of the NLL): E[log Ẑ] ≤ log Z, and the gap shrinks
//    roughly like 1/K with K temperatures. So the 4× run is the better estimate, and the
//    shorter run's distance from it, |Δ|, is about 3/4 of the shorter run's bias, so about
//    three times what is left in the 4× run. lab.evaluate's nll_nats is the 4× estimate
//    and its stderr is max(the 4× run's delta-method standard error, |Δ|): it covers the
//    chains' spread and what the schedule still leaves, and a short schedule can never be
//    shown as a tight ±.
//  - IWAE (a bound): a bound is never optimistic, at any k; nll_nats stays the bound at k
//    over every example, and the check at 4k (on the first rows) says how much looser it is.
// `converged` is |Δ| < tolerance (0.5 nats for both).

/** the factor of the convergence check's knob */
export const CHECK_FACTOR = 4;

/** nats: the most 4× the knob may move an estimate for it to count as converged */
export const CONVERGENCE_TOLERANCE = 0.5;

/** an independent seed for the check's run, from the estimate's seed */
export function checkSeed(seed: number): number {
  return Math.imul((seed ^ 0x6a09e667) >>> 0, 0x9e3779b1) >>> 0;
}

/** the error bar that covers both the estimator's spread and the move at 4× its knob */
export function coveringStderr(stderr: number, delta: number): number {
  const s = Number.isFinite(stderr) ? stderr : 0;
  return Math.max(s, Math.abs(delta));
}

/** builds the convergence record; `converged` is |nll4x − nll| < tolerance */
export function convergenceOf(c: Omit<LatentLab.Convergence, 'converged' | 'tolerance'> & { tolerance?: number }): LatentLab.Convergence {
  const tolerance = c.tolerance ?? CONVERGENCE_TOLERANCE;
  const converged = Number.isFinite(c.nll) && Number.isFinite(c.nll4x) && Math.abs(c.nll4x - c.nll) < tolerance;
  return { ...c, tolerance, converged };
}

export { convergenceNote } from '../../shared/convergence';
