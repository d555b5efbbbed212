// The tracker's schema migrations on a database of the old schema: migration 2
// rebuilds the runs table without cascading away what hangs off it.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../../src/main/services/migrations';
import { Tracker } from '../../../../src/main/services/tracker';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

describe('migration 2 on a database of the old schema', () => {
  it('rebuilds runs with the wider status check without cascading away metrics, artifacts or checkpoints', () => {
    const file = join(tempDir('latentlab-migrate-'), 'tracking.sqlite');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.pragma('foreign_keys = ON');
    old.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    old.exec(migrations[0].sql);
    old.prepare('INSERT INTO schema_migrations VALUES (1, ?, ?, ?)').run(migrations[0].name, createHash('sha256').update(migrations[0].sql).digest('hex'), Date.now());
    old.prepare(`INSERT INTO runs (id, notebook, cell, name, family, config, code, data_fingerprint, data_name, seed, backend, status, steps, total_steps, started_at)
      VALUES ('r1', 'a.ipynb', 'c1', 'vae', 'vae', '{}', 'lab.train()', 'fp', 'moons', 1, 'wasm', 'running', 100, 100, 1)`).run();
    old.prepare(`INSERT INTO runs (id, notebook, cell, name, family, config, code, data_fingerprint, data_name, seed, backend, status, steps, total_steps, started_at)
      VALUES ('r2', 'a.ipynb', 'c1', 'vae', 'vae', '{}', 'lab.train()', 'fp', 'moons', 1, 'wasm', 'finished', 100, 100, 2)`).run();
    const ins = old.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?)');
    for (let s = 1; s <= 100; s++) {
      ins.run('r1', 'train/loss', s, 100 - s, s);
      ins.run('r2', 'train/loss', s, 200 - s, s);
    }
    ins.run('r1', 'val/elbo', 50, -3, 50);
    old.prepare(`INSERT INTO artifacts VALUES ('r1', 50, 'samples', 1, 'r1/samples/step-000050.png', '{}')`).run();
    old.prepare(`INSERT INTO checkpoints (run_id, step, path, reason, metric_key, metric_value, created_at) VALUES ('r1', 50, 'r1/checkpoints/step-000050.json', 'periodic', NULL, NULL, 1)`).run();
    old.close();

    const t = new Tracker(file);
    try {
      expect((t.db.prepare('SELECT COUNT(*) AS n FROM metrics').get() as { n: number }).n).toBe(201);
      expect(t.artifacts('r1')).toHaveLength(1);
      expect(t.checkpoints('r1')).toHaveLength(1);
      expect(t.db.pragma('foreign_key_check')).toEqual([]);
      expect(t.db.pragma('foreign_keys', { simple: true })).toBe(1);
      // the run a dead host left running is crashed; the new statuses pass the CHECK
      expect(t.markOrphansCrashed()).toBe(1);
      expect(t.getRun('r1')!.status).toBe('crashed');
      t.endRun('r2', 'diverged', 100, 'x');
      expect(t.getRun('r2')!.status).toBe('diverged');
      // finals were filled from the metrics that were there
      expect(t.getRun('r1')!.finalMetrics).toEqual({ 'train/loss': 0, 'val/elbo': -3 });
      expect(t.getRun('r2')!.finalMetrics).toEqual({ 'train/loss': 100 });
      // and cascades still work after the rebuild: deleting a run deletes its rows
      t.db.prepare(`DELETE FROM runs WHERE id = 'r2'`).run();
      expect((t.db.prepare(`SELECT COUNT(*) AS n FROM metrics WHERE run_id = 'r2'`).get() as { n: number }).n).toBe(0);
      expect((t.db.prepare(`SELECT COUNT(*) AS n FROM run_finals WHERE run_id = 'r2'`).get() as { n: number }).n).toBe(0);
    } finally {
      t.close();
    }
  });
});
