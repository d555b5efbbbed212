// The tracker with 1,000,000 metric points over 50 runs in a real SQLite file
// (issue 8): the runs list's final metrics and the compare view's downsampled curves
// are right on a file that big; the timings are printed (npm run bench prints them too).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillBigDb, measureTracker, MILLION, runRecord, valueAt } from '../../../../src/bench/tracker-scale';
import { Tracker } from '../../../../src/main/services/tracker';

let dir: string;
let t: Tracker;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'latentlab-scale-'));
  // as the host opens it: WAL checkpoints in a background thread
  t = new Tracker(join(dir, '.latentlab', 'tracking.sqlite'), { backgroundCheckpoints: true });
  expect(fillBigDb(t, MILLION)).toBe(1_000_000);
}, 300_000);
afterAll(() => {
  t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tracker at 1,000,000 points', () => {
  it('lists every run with its right final metrics', () => {
    const runs = t.listRuns();
    expect(runs).toHaveLength(MILLION.runs);
    for (const run of runs) {
      const r = Number(run.id.slice(-3));
      expect(Object.keys(run.finalMetrics).sort()).toEqual([...MILLION.keys].sort());
      MILLION.keys.forEach((key, k) => expect(run.finalMetrics[key]).toBeCloseTo(valueAt(r, k, MILLION.steps), 9));
    }
    // the same as the metrics table says, asked the slow way
    const brute = t.db
      .prepare(`SELECT m.key, m.value FROM metrics m WHERE m.run_id = ? AND m.step = (SELECT MAX(step) FROM metrics WHERE run_id = m.run_id AND key = m.key)`)
      .all(runs[7].id) as { key: string; value: number }[];
    expect(runs[7].finalMetrics).toEqual(Object.fromEntries(brute.map((b) => [b.key, b.value])));
  });

  it('downsamples a curve of the big file to min/max buckets: every bucket keeps its extremes', () => {
    const run = t.listRuns()[3];
    const key = 'train/loss';
    const all = t.db.prepare('SELECT step, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step').all(run.id, key) as { step: number; value: number }[];
    expect(all).toHaveLength(MILLION.steps);
    const s = t.series(run.id, key, 400);
    expect(s.steps.length).toBeLessThanOrEqual(400);
    expect(s.steps.length).toBeGreaterThan(300);
    expect(s.steps).toEqual([...s.steps].sort((a, b) => a - b));
    // each bucket's min and max, computed here from every point
    const buckets = 200;
    const width = (all.at(-1)!.step - all[0].step + 1) / buckets;
    const want = new Set<number>();
    const byBucket = new Map<number, { min: { step: number; value: number }; max: { step: number; value: number } }>();
    for (const p of all) {
      const b = Math.floor((p.step - all[0].step) / width);
      const e = byBucket.get(b);
      if (!e) byBucket.set(b, { min: p, max: p });
      else {
        if (p.value < e.min.value) e.min = p;
        if (p.value > e.max.value) e.max = p;
      }
    }
    for (const e of byBucket.values()) {
      want.add(e.min.step);
      want.add(e.max.step);
    }
    expect(new Set(s.steps)).toEqual(want);
    for (const [i, step] of s.steps.entries()) expect(s.values[i]).toBe(all[step - 1].value);
  });

  it('takes a live run\'s 2000 write batches while the UI reads the big file (the timings: npm run bench)', () => {
    const f = measureTracker(t, 2000);
    expect(f.points).toBe(1_000_000);
    expect(f.writeBatches).toBe(2000);
    // the live run's rows are all there
    expect(t.series('r-scale-9999', 'train/k0', 100_000).steps.length).toBeGreaterThan(20_000);
  }, 120_000);

  it('checkpoints the WAL in its background thread: new data reaches the database file, the WAL is cut back', async () => {
    const file = join(dir, '.latentlab', 'tracking.sqlite');
    // the host's connection never checkpoints (in-commit checkpoints are off)...
    expect(t.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    // ...so ~25 MB of new points reach the database file only through the thread
    t.insertRun(runRecord(777, 100_000, Date.now()));
    for (let from = 1; from <= 100_000; from += 5000) {
      const pts = [];
      for (let s = from; s < from + 5000; s++) for (const key of MILLION.keys) pts.push({ key, step: s, value: s, wallTime: s });
      t.addMetrics('r-scale-777', pts, from + 4999);
    }
    await new Promise((r) => setTimeout(r, 3000));
    t.addMetrics('r-scale-000', [{ key: 'train/loss', step: 1, value: 1, wallTime: 1 }]); // restarts the WAL, cut to the limit
    const grown = statSync(file).size - before;
    console.log(`[tracker-scale] 400,000 new points: the database file grew ${(grown / 1e6).toFixed(1)} MB through the checkpoint thread; WAL now ${(statSync(`${file}-wal`).size / 1e6).toFixed(1)} MB`);
    expect(grown).toBeGreaterThan(10e6);
    expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(16 * 1024 * 1024);
  }, 60_000);
});
