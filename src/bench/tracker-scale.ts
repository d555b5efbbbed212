// The tracker at scale (issue 8): a real SQLite file with 1,000,000 metric points
// over 50 runs, and what the UI asks of it then — the runs list (final metrics of
// every run), the compare view's downsampled curves, one run — and how long each
// write of a trainer-sized batch holds the host's thread while the file is that big
// (WAL checkpoints included). Used by `npm run bench` and by the scale test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricPoint, RunRecord } from '../shared/domain';
import { Tracker } from '../main/services/tracker';

export interface BigDbShape {
  runs: number;
  keys: string[];
  /** points per key per run */
  steps: number;
}

export const MILLION: BigDbShape = { runs: 50, keys: ['train/loss', 'train/recon', 'train/kl', 'val/elbo'], steps: 5000 };

/** the value of a point: a falling curve with a wiggle, different per run and key */
export const valueAt = (run: number, key: number, step: number): number => 100 + 400 / Math.sqrt(step) + 5 * Math.sin(step * 0.37 + run + key) + run + 10 * key;

export function runRecord(i: number, steps: number, startedAt: number): RunRecord {
  return {
    id: `r-scale-${String(i).padStart(3, '0')}`, notebook: 'scale.ipynb', cell: 'c1', name: `vae ${i}`, family: 'vae',
    config: { model: { latentDim: 2 + (i % 8) }, train: { steps } }, code: 'lab.train()', dataFingerprint: 'f'.repeat(16),
    dataName: 'mnist', seed: i, backend: 'wasm', status: 'running', steps: 0, totalSteps: steps, startedAt,
    endedAt: null, heartbeat: null, error: null, finalMetrics: {},
  };
}

/** Fills a tracker with `shape` (big transactions: this is set-up, not the thing measured). */
export function fillBigDb(t: Tracker, shape: BigDbShape = MILLION): number {
  const t0 = Date.now() - 86_400_000;
  let n = 0;
  for (let r = 0; r < shape.runs; r++) {
    const run = runRecord(r, shape.steps, t0 + r * 1000);
    t.insertRun(run);
    const chunk = 1000;
    for (let from = 1; from <= shape.steps; from += chunk) {
      const pts: MetricPoint[] = [];
      for (let s = from; s < Math.min(from + chunk, shape.steps + 1); s++) {
        shape.keys.forEach((key, k) => pts.push({ key, step: s, value: valueAt(r, k, s), wallTime: t0 + s * 10 }));
      }
      t.addMetrics(run.id, pts, Math.min(from + chunk - 1, shape.steps));
      n += pts.length;
    }
    t.endRun(run.id, 'finished', shape.steps, null);
  }
  return n;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const time = <T>(f: () => T): { ms: number; value: T } => {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
};

export interface ScaleFigures {
  points: number;
  runs: number;
  listMs: number;
  getRunMs: number;
  /** the compare view: 10 runs × the keys, downsampled to 2000 points each */
  seriesMs: number;
  seriesCalls: number;
  writeBatches: number;
  writeP50Ms: number;
  writeP99Ms: number;
  writeMaxMs: number;
  /** a WAL checkpoint (PASSIVE) of what those writes left, on its own */
  checkpointMs: number;
  /**
   * the noise floor: the same number of timings of a CPU-only task about as long as a
   * write (no database); on a loaded machine its max is as high as the writes'
   */
  noiseP99Ms: number;
  noiseMaxMs: number;
  dbMb: number;
}

/**
 * Times the UI's reads on a filled tracker, then a new run's writes: `batches` batches
 * of 50 points (a trainer's flush: 12-13 steps × 4 keys), the WAL checkpoints that
 * SQLite runs inside some of those commits included.
 */
export function measureTracker(t: Tracker, batches = 2000): ScaleFigures {
  const points = (t.db.prepare('SELECT COUNT(*) AS n FROM metrics').get() as { n: number }).n;
  // warm the page cache the way a running app has it
  t.listRuns();
  const reps = 5;
  let listMs = Infinity;
  let runs: RunRecord[] = [];
  for (let i = 0; i < reps; i++) {
    const r = time(() => t.listRuns());
    listMs = Math.min(listMs, r.ms);
    runs = r.value;
  }
  let getRunMs = Infinity;
  for (let i = 0; i < reps; i++) getRunMs = Math.min(getRunMs, time(() => t.getRun(runs[0].id)).ms);
  const keys = t.metricKeys(runs[0].id);
  const compare = runs.slice(0, 10);
  let seriesMs = Infinity;
  for (let i = 0; i < 3; i++) {
    seriesMs = Math.min(
      seriesMs,
      time(() => {
        for (const r of compare) for (const k of keys) t.series(r.id, k, 2000);
      }).ms,
    );
  }
  // a run training into the big file
  const live = runRecord(9999, batches * 13, Date.now());
  t.insertRun(live);
  const writes: number[] = [];
  let step = 0;
  for (let b = 0; b < batches; b++) {
    const pts: MetricPoint[] = [];
    while (pts.length < 50) {
      step++;
      for (let k = 0; k < 4 && pts.length < 50; k++) pts.push({ key: `train/k${k}`, step, value: valueAt(9999, k, step), wallTime: Date.now() });
    }
    writes.push(time(() => t.addMetrics(live.id, pts, step)).ms);
  }
  const checkpointMs = time(() => t.db.pragma('wal_checkpoint(PASSIVE)')).ms;
  const p50 = quantile(writes, 0.5);
  const noise: number[] = [];
  let sink = 0;
  for (let b = 0; b < batches; b++) {
    noise.push(
      time(() => {
        const t0 = performance.now();
        let x = 0;
        while (performance.now() - t0 < p50) x += Math.sqrt(x + 1);
        sink += x;
      }).ms,
    );
  }
  if (sink < 0) throw new Error('unreachable');
  const pageCount = t.db.pragma('page_count', { simple: true }) as number;
  const pageSize = t.db.pragma('page_size', { simple: true }) as number;
  return {
    points, runs: runs.length, listMs, getRunMs, seriesMs, seriesCalls: compare.length * keys.length,
    writeBatches: writes.length, writeP50Ms: quantile(writes, 0.5), writeP99Ms: quantile(writes, 0.99), writeMaxMs: Math.max(...writes),
    checkpointMs, dbMb: (pageCount * pageSize) / 1e6, noiseP99Ms: quantile(noise, 0.99), noiseMaxMs: Math.max(...noise),
  };
}

export function formatScale(f: ScaleFigures): string {
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
  return [
    `tracker at scale: ${f.points.toLocaleString('en')} metric points over ${f.runs} runs (${f.dbMb.toFixed(0)} MB file)`,
    `  runs list (every run with its final metrics): ${ms(f.listMs)}`,
    `  one run: ${ms(f.getRunMs)}`,
    `  compare view curves (${f.seriesCalls} series downsampled to ≤2000 points): ${ms(f.seriesMs)} (${ms(f.seriesMs / f.seriesCalls)} each)`,
    `  writes of 50-point batches while the file is that big (${f.writeBatches}, WAL checkpoints included): p50 ${ms(f.writeP50Ms)}, p99 ${ms(f.writeP99Ms)}, max ${ms(f.writeMaxMs)}`,
    `  checkpointing what the WAL held at the end, on this thread (the host leaves it to its thread): ${ms(f.checkpointMs)}`,
    `  noise floor (a CPU-only task as long as a median write, timed as often): p99 ${ms(f.noiseP99Ms)}, max ${ms(f.noiseMaxMs)}`,
  ].join('\n');
}

/**
 * `npm run bench`'s tracker section: builds the 1M-point file in a temp folder and
 * measures it as the host opens it (checkpoints in a thread) and, for comparison,
 * with SQLite's own in-commit checkpoints.
 */
export function trackerBench(log: (s: string) => void, batches = 2000): { host: ScaleFigures; inCommitCheckpoints: ScaleFigures } {
  const dir = mkdtempSync(join(tmpdir(), 'latentlab-bench-tracker-'));
  const file = join(dir, 'tracking.sqlite');
  try {
    const t0 = Date.now();
    const t = new Tracker(file, { backgroundCheckpoints: true });
    fillBigDb(t, MILLION);
    log(`tracker: built a ${MILLION.runs}-run, 1,000,000-point file in ${Date.now() - t0} ms`);
    const host = measureTracker(t, batches);
    t.close();
    log(formatScale(host));
    const plain = new Tracker(file);
    plain.db.prepare("DELETE FROM runs WHERE id = 'r-scale-9999'").run();
    const inCommitCheckpoints = measureTracker(plain, batches);
    plain.close();
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    log(`  (with SQLite's in-commit WAL checkpoints instead of the thread: writes p99 ${ms(inCommitCheckpoints.writeP99Ms)}, max ${ms(inCommitCheckpoints.writeMaxMs)})`);
    return { host, inCommitCheckpoints };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
