// Run names as shown: made from what differs from the run's siblings (shared/run-names.ts),
// computed once per change of the runs list.
import { runNames } from '../../../shared/run-names';
import type { RunRecord } from '../../../shared/domain';
import { useLab } from '../store';

let memo: { runs: RunRecord[]; names: Map<string, string> } | null = null;

/** id → display name for the runs in the store */
export function namesOf(runs: RunRecord[]): Map<string, string> {
  if (memo?.runs !== runs) memo = { runs, names: runNames(runs) };
  return memo.names;
}

/** the display names of the runs in the store (re-rendered when the runs change) */
export function useRunNames(): Map<string, string> {
  return namesOf(useLab((s) => s.runs));
}

/** one run's display name (its stored name when it is not in the store) */
export function useRunName(runId: string, fallback?: string): string {
  return useLab((s) => namesOf(s.runs).get(runId)) ?? fallback ?? runId;
}
