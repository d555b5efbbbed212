// How an estimate's convergence check reads, for the CLI, the run header and a cell's output,
// and the run keys lab.evaluate records it under (all of kind 'info').

/** what a convergence check says, as recorded on a run */
export interface ConvergenceSummary {
  /** 'betas' (AIS temperatures), 'k' (importance samples), 'probes' */
  knob: string;
  nll: number;
  nll4x: number;
  tolerance: number;
  converged: boolean;
}

/** the run keys of a convergence check (the knob's value is recorded as test/knob_<name>) */
export const CONVERGENCE_KEYS = {
  nll: 'test/nll_1x',
  nll4x: 'test/nll_4x',
  converged: 'test/nll_converged',
  tolerance: 'test/nll_tolerance',
  ess: 'test/nll_ess',
  essOf: 'test/nll_ess_of',
} as const;

const KNOB_WORDS: Record<string, string> = { betas: 'temperatures', k: 'importance samples', probes: 'probes' };

/** e.g. "not converged: 4× temperatures moved it by 3.20 nats (tolerance 0.5)" */
export function convergenceNote(c: ConvergenceSummary): string {
  const what = KNOB_WORDS[c.knob] ?? c.knob;
  const moved = Math.abs(c.nll4x - c.nll);
  const by = `${moved.toFixed(moved < 0.1 ? 3 : 2)} nats`;
  return c.converged ? `converged: 4× ${what} moved it by ${by} (< ${c.tolerance})` : `not converged: 4× ${what} moved it by ${by} (tolerance ${c.tolerance})`;
}

/** the convergence check recorded in a run's metrics (last values by key), or null when it has none */
export function convergenceFromMetrics(last: (key: string) => number | undefined, keys: string[]): (ConvergenceSummary & { at?: number; ess?: number; essOf?: number }) | null {
  const nll = last(CONVERGENCE_KEYS.nll);
  const nll4x = last(CONVERGENCE_KEYS.nll4x);
  const converged = last(CONVERGENCE_KEYS.converged);
  if (nll === undefined || nll4x === undefined || converged === undefined) return null;
  const knobKey = keys.find((k) => k.startsWith('test/knob_'));
  const out: ConvergenceSummary & { at?: number; ess?: number; essOf?: number } = {
    knob: knobKey ? knobKey.slice('test/knob_'.length) : 'knob',
    nll,
    nll4x,
    tolerance: last(CONVERGENCE_KEYS.tolerance) ?? 0.5,
    converged: converged === 1,
  };
  if (knobKey) out.at = last(knobKey);
  const ess = last(CONVERGENCE_KEYS.ess);
  if (ess !== undefined) out.ess = ess;
  const essOf = last(CONVERGENCE_KEYS.essOf);
  if (essOf !== undefined) out.essOf = essOf;
  return out;
}
