import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../../src/shared/domain';
import { migrations } from '../../../../src/main/services/migrations';
import { Tracker } from '../../../../src/main/services/tracker';

const dirs: string[] = [];
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'latentlab-tracker-'));
  dirs.push(d);
  return join(d, '.latentlab', 'tracking.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(id: string, startedAt = Date.now()): RunRecord {
  return {
    id, notebook: 'vae-mnist.ipynb', cell: 'c3', name: `vae ${id}`, family: 'vae', config: { latentDim: 16, steps: 100 },
    code: 'const x = 1;', dataFingerprint: 'abc', dataName: 'mnist', seed: 1, backend: 'wasm', status: 'running',
    steps: 0, totalSteps: 100, startedAt, endedAt: null, heartbeat: null, error: null, finalMetrics: {},
  };
}

describe('tracker (a real SQLite file)', () => {
  it('stores runs, metric batches, artifacts and checkpoints, and keeps them after reopening', () => {
    const file = tempFile();
    const t = new Tracker(file);
    expect(t.db.pragma('journal_mode', { simple: true })).toBe('wal');
    t.insertRun(run('r1', 1000));
    t.insertRun(run('r2', 2000));
    t.addMetrics('r1', [1, 2, 3].map((s) => ({ key: 'train/loss', step: s, value: 10 - s, wallTime: s })), 3);
    t.addMetrics('r1', [{ key: 'val/elbo', step: 3, value: -120, wallTime: 3 }], 3);
    t.addArtifact({ runId: 'r1', step: 3, kind: 'samples', seed: 1234, path: 'r1/samples/step-000003.png', meta: { n: 64 } });
    t.addCheckpoint({ runId: 'r1', step: 2, path: 'r1/checkpoints/best.json', reason: 'best', metricKey: 'val/elbo', metricValue: -130 });
    t.addCheckpoint({ runId: 'r1', step: 3, path: 'r1/checkpoints/best.json', reason: 'best', metricKey: 'val/elbo', metricValue: -120 });
    t.endRun('r1', 'stopped', 3, null);
    t.close();

    const again = new Tracker(file);
    const runs = again.listRuns();
    expect(runs.map((r) => r.id)).toEqual(['r2', 'r1']); // newest first
    const r1 = again.getRun('r1')!;
    expect(r1).toMatchObject({ status: 'stopped', steps: 3, config: { latentDim: 16 }, seed: 1, backend: 'wasm' });
    expect(r1.finalMetrics).toEqual({ 'train/loss': 7, 'val/elbo': -120 });
    expect(again.series('r1', 'train/loss')).toMatchObject({ key: 'train/loss', steps: [1, 2, 3], values: [9, 8, 7] });
    // each point's wall time comes along (the compare view's wall-time axis)
    expect(again.series('r1', 'train/loss').times).toHaveLength(3);
    expect(again.metricSummary('r1')['train/loss']).toEqual({ first: 9, last: 7, min: 7 });
    expect(again.artifacts('r1', 'samples')[0]).toMatchObject({ path: 'r1/samples/step-000003.png', meta: { n: 64 } });
    // the newer best checkpoint overwrote best.json: one row, the newer one
    expect(again.checkpoints('r1')).toEqual([expect.objectContaining({ step: 3, reason: 'best', metricValue: -120 })]);
    again.close();
  });

  it('downsamples a long curve in SQL but keeps each bucket\'s extremes', () => {
    const t = new Tracker(tempFile());
    t.insertRun(run('r1'));
    const pts = Array.from({ length: 10_000 }, (_, i) => ({ key: 'train/loss', step: i, value: i === 5003 ? 1000 : Math.sin(i / 100), wallTime: i }));
    t.addMetrics('r1', pts, 10_000);
    const s = t.series('r1', 'train/loss', 200);
    expect(s.steps.length).toBeLessThanOrEqual(200);
    expect(s.steps.length).toBeGreaterThan(100);
    expect(Math.max(...s.values)).toBe(1000); // the spike survives
    expect(s.steps).toEqual([...s.steps].sort((a, b) => a - b));
    t.close();
  });

  it('marks runs left running by a dead host as crashed, not those of a live host', () => {
    const t = new Tracker(tempFile());
    t.insertRun(run('r1'));
    t.insertRun(run('r2'));
    t.db.prepare("UPDATE runs SET owner = 'nohost.invalid:1' WHERE id = 'r2'").run(); // another machine, no heartbeat
    // r1 belongs to this live process: a second host opening the workspace leaves it alone
    expect(t.markOrphansCrashed()).toBe(1);
    expect(t.getRun('r1')!.status).toBe('running');
    expect(t.getRun('r2')).toMatchObject({ status: 'crashed', error: expect.stringContaining('host process stopped') });
    t.db.prepare("UPDATE runs SET owner = NULL WHERE id = 'r1'").run(); // written before owners existed
    expect(t.markOrphansCrashed()).toBe(1);
    expect(t.getRun('r1')!.status).toBe('crashed');
    t.close();
  });

  it('refuses a database whose applied migration was edited', () => {
    const file = tempFile();
    new Tracker(file).close();
    const db = new Database(file);
    db.prepare("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1").run();
    db.close();
    expect(() => new Tracker(file)).toThrow(/was edited after it was applied/);
    expect(migrations.length).toBeGreaterThan(0);
  });
});
