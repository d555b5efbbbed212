// Small display helpers for runs.
import type { RunRecord } from '../../../shared/domain';

/** The metric a runs list shows: a validation likelihood if there is one, else the training loss. */
const PREFERRED = [
  'val/bits_per_dim', 'val/bpd', 'val/nll', 'val/elbo', 'val/loss',
  'test/bits_per_dim', 'test/nll', 'train/bits_per_dim', 'train/elbo', 'train/loss',
];

/** The metric the run's trainer judged it by (its best-checkpoint key), and the kind of each metric. */
export function runMeta(run: RunRecord | undefined): { kinds: Record<string, string>; primary: string | null } {
  const cfg = (run?.config ?? {}) as { metricKinds?: Record<string, string>; train?: { best?: { key?: string } | null } };
  return { kinds: cfg.metricKinds ?? {}, primary: cfg.train?.best?.key ?? null };
}

export function keyMetric(run: RunRecord): { key: string; value: number; kind: string | null } | null {
  const m = run.finalMetrics ?? {};
  const keys = Object.keys(m);
  if (keys.length === 0) return null;
  const { kinds, primary } = runMeta(run);
  const key =
    (primary && primary in m ? primary : undefined) ??
    PREFERRED.find((k) => k in m) ??
    keys.find((k) => k.startsWith('val/')) ??
    keys.find((k) => k.endsWith('loss')) ??
    keys.sort()[0];
  return { key, value: m[key], kind: kinds[key] ?? null };
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A short line of the model's settings, so runs of one family can be told apart in a list. */
export function configSummary(run: RunRecord, max = 3): string {
  const model = (run.config as { model?: Record<string, unknown> }).model ?? {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(model)) {
    if (parts.length >= max) break;
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') parts.push(`${k} ${v}`);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) parts.push(`${k} ${v.join('·')}`);
  }
  return parts.join(', ');
}
