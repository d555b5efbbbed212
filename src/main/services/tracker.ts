// The run tracker: one SQLite file per workspace (better-sqlite3, WAL).
// One writer (the host process). Migrations are versioned and checksummed:
// editing a migration that a database already applied is refused.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Artifact, Checkpoint, MetricPoint, RunRecord, RunStatus, SeriesData } from '../../shared/domain';
import { migrations } from './migrations';

type Db = Database.Database;

export interface TrackerOptions {
  /** better-sqlite3's native binding, for the Electron build (different ABI). */
  nativeBinding?: string;
}

interface RunRow {
  id: string; notebook: string; cell: string; name: string; family: string; config: string; code: string;
  data_fingerprint: string; data_name: string; seed: number; backend: string; status: string; steps: number;
  total_steps: number; started_at: number; ended_at: number | null; heartbeat: number | null; error: string | null;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export class Tracker {
  readonly db: Db;
  private insertMetric: Database.Statement;

  constructor(readonly file: string, opts: TrackerOptions = {}) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    this.insertMetric = this.db.prepare(
      'INSERT OR REPLACE INTO metrics (run_id, key, step, value, wall_time) VALUES (?, ?, ?, ?, ?)',
    );
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const applied = new Map(
      (this.db.prepare('SELECT version, name, checksum FROM schema_migrations').all() as { version: number; name: string; checksum: string }[])
        .map((r) => [r.version, r]),
    );
    for (const [version, m] of migrations.entries()) {
      const v = version + 1;
      const done = applied.get(v);
      if (done) {
        if (done.checksum !== sha(m.sql)) {
          throw new Error(`migration ${v} (${m.name}) was edited after it was applied to ${this.file}; refusing to open`);
        }
        continue;
      }
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)').run(v, m.name, sha(m.sql), Date.now());
      })();
    }
    const newest = Math.max(0, ...applied.keys());
    if (newest > migrations.length) {
      throw new Error(`${this.file} was written by a newer Latent Lab (schema ${newest} > ${migrations.length})`);
    }
  }

  close(): void {
    this.db.close();
  }

  insertRun(run: RunRecord): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, notebook, cell, name, family, config, code, data_fingerprint, data_name, seed, backend,
          status, steps, total_steps, started_at, ended_at, heartbeat, error)
         VALUES (@id, @notebook, @cell, @name, @family, @config, @code, @dataFingerprint, @dataName, @seed, @backend,
          @status, @steps, @totalSteps, @startedAt, @endedAt, @heartbeat, @error)`,
      )
      .run({ ...run, config: JSON.stringify(run.config) });
  }

  /** Writes a batch of points in one transaction and bumps the run's heartbeat. */
  addMetrics(runId: string, points: MetricPoint[], steps?: number): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const p of points) this.insertMetric.run(runId, p.key, p.step, p.value, p.wallTime);
      if (steps !== undefined) this.db.prepare('UPDATE runs SET steps = MAX(steps, ?), heartbeat = ? WHERE id = ?').run(steps, now, runId);
      else this.db.prepare('UPDATE runs SET heartbeat = ? WHERE id = ?').run(now, runId);
    })();
  }

  /** Adds metric kinds to a run's config.metricKinds (evaluations recorded after the run started). */
  mergeMetricKinds(runId: string, kinds: Record<string, string>): void {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT config FROM runs WHERE id = ?').get(runId) as { config: string } | undefined;
      if (!row) return;
      const config = JSON.parse(row.config) as Record<string, unknown>;
      config.metricKinds = { ...((config.metricKinds as Record<string, string> | undefined) ?? {}), ...kinds };
      this.db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(config), runId);
    })();
  }

  endRun(runId: string, status: Exclude<RunStatus, 'running'>, steps: number, error: string | null): void {
    this.db
      .prepare('UPDATE runs SET status = ?, steps = MAX(steps, ?), ended_at = ?, error = ? WHERE id = ?')
      .run(status, steps, Date.now(), error, runId);
  }

  /** Runs left 'running' by a host that died are marked failed when the workspace opens. */
  markOrphansFailed(reason = 'the engine stopped while this run was training'): number {
    return this.db
      .prepare(`UPDATE runs SET status = 'failed', ended_at = COALESCE(heartbeat, started_at), error = ? WHERE status = 'running'`)
      .run(reason).changes;
  }

  addArtifact(a: Artifact): void {
    this.db
      .prepare('INSERT OR REPLACE INTO artifacts (run_id, step, kind, seed, path, meta) VALUES (?, ?, ?, ?, ?, ?)')
      .run(a.runId, a.step, a.kind, a.seed, a.path, JSON.stringify(a.meta ?? {}));
  }

  /** A checkpoint written to a path that an earlier one used (the engine's best.json) replaces that row. */
  addCheckpoint(c: Checkpoint): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND path = ?').run(c.runId, c.path);
      this.db
        .prepare(
          'INSERT INTO checkpoints (run_id, step, path, reason, metric_key, metric_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(c.runId, c.step, c.path, c.reason, c.metricKey, c.metricValue, Date.now());
    })();
  }

  private toRecord(r: RunRow): RunRecord {
    const finals = this.db
      .prepare(
        `SELECT m.key AS key, m.value AS value FROM metrics m
         JOIN (SELECT key, MAX(step) AS step FROM metrics WHERE run_id = ? GROUP BY key) last
           ON m.key = last.key AND m.step = last.step
         WHERE m.run_id = ?`,
      )
      .all(r.id, r.id) as { key: string; value: number }[];
    return {
      id: r.id, notebook: r.notebook, cell: r.cell, name: r.name, family: r.family,
      config: JSON.parse(r.config) as Record<string, unknown>, code: r.code,
      dataFingerprint: r.data_fingerprint, dataName: r.data_name, seed: r.seed, backend: r.backend,
      status: r.status as RunStatus, steps: r.steps, totalSteps: r.total_steps, startedAt: r.started_at,
      endedAt: r.ended_at, heartbeat: r.heartbeat, error: r.error,
      finalMetrics: Object.fromEntries(finals.map((f) => [f.key, f.value])),
    };
  }

  getRun(id: string): RunRecord | null {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? this.toRecord(row) : null;
  }

  listRuns(opts: { notebook?: string; limit?: number } = {}): RunRecord[] {
    const rows = (
      opts.notebook !== undefined
        ? this.db.prepare('SELECT * FROM runs WHERE notebook = ? ORDER BY started_at DESC LIMIT ?').all(opts.notebook, opts.limit ?? 500)
        : this.db.prepare('SELECT * FROM runs ORDER BY started_at DESC LIMIT ?').all(opts.limit ?? 500)
    ) as RunRow[];
    return rows.map((r) => this.toRecord(r));
  }

  metricKeys(runId: string): string[] {
    return (this.db.prepare('SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key').all(runId) as { key: string }[]).map((r) => r.key);
  }

  /**
   * A curve downsampled in SQL: steps are cut into buckets and each bucket keeps
   * its min and its max point (so spikes survive), at most maxPoints in all.
   */
  series(runId: string, key: string, maxPoints = 2000): SeriesData {
    const { n, lo, hi } = this.db
      .prepare('SELECT COUNT(*) AS n, MIN(step) AS lo, MAX(step) AS hi FROM metrics WHERE run_id = ? AND key = ?')
      .get(runId, key) as { n: number; lo: number | null; hi: number | null };
    let rows: { step: number; value: number; t: number }[];
    if (n <= maxPoints || lo === null || hi === null) {
      rows = this.db.prepare('SELECT step, value, wall_time AS t FROM metrics WHERE run_id = ? AND key = ? ORDER BY step').all(runId, key) as typeof rows;
    } else {
      const buckets = Math.max(1, Math.floor(maxPoints / 2));
      const width = (hi - lo + 1) / buckets;
      rows = this.db
        .prepare(
          `WITH b AS (
             SELECT step, value, wall_time, CAST((step - @lo) / @width AS INTEGER) AS bucket FROM metrics
             WHERE run_id = @run AND key = @key),
           ranked AS (
             SELECT step, value, wall_time,
               ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY value ASC, step) AS rmin,
               ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY value DESC, step) AS rmax
             FROM b)
           SELECT step, value, wall_time AS t FROM ranked WHERE rmin = 1 OR rmax = 1 ORDER BY step`,
        )
        .all({ lo, width, run: runId, key }) as typeof rows;
    }
    return { key, steps: rows.map((r) => r.step), values: rows.map((r) => r.value), times: rows.map((r) => r.t) };
  }

  /** Every metric point of a run, by key then step, without loading them all at once. */
  *iterateMetrics(runId: string): IterableIterator<{ key: string; step: number; value: number; wallTime: number }> {
    const rows = this.db.prepare('SELECT key, step, value, wall_time AS wallTime FROM metrics WHERE run_id = ? ORDER BY key, step').iterate(runId);
    yield* rows as IterableIterator<{ key: string; step: number; value: number; wallTime: number }>;
  }

  /** first, last and min of every metric of a run (for `latentlab run --json`). */
  metricSummary(runId: string): Record<string, { first: number; last: number; min: number }> {
    const rows = this.db
      .prepare(
        `SELECT key,
           (SELECT value FROM metrics f WHERE f.run_id = m.run_id AND f.key = m.key ORDER BY step ASC LIMIT 1) AS first,
           (SELECT value FROM metrics l WHERE l.run_id = m.run_id AND l.key = m.key ORDER BY step DESC LIMIT 1) AS last,
           MIN(value) AS min
         FROM metrics m WHERE run_id = ? GROUP BY key ORDER BY key`,
      )
      .all(runId) as { key: string; first: number; last: number; min: number }[];
    return Object.fromEntries(rows.map((r) => [r.key, { first: r.first, last: r.last, min: r.min }]));
  }

  artifacts(runId: string, kind?: string): Artifact[] {
    const rows = (
      kind
        ? this.db.prepare('SELECT * FROM artifacts WHERE run_id = ? AND kind = ? ORDER BY step, path').all(runId, kind)
        : this.db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY step, path').all(runId)
    ) as { run_id: string; step: number; kind: Artifact['kind']; seed: number | null; path: string; meta: string }[];
    return rows.map((r) => ({ runId: r.run_id, step: r.step, kind: r.kind, seed: r.seed, path: r.path, meta: JSON.parse(r.meta) }));
  }

  checkpoints(runId: string): Checkpoint[] {
    const rows = this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id').all(runId) as {
      run_id: string; step: number; path: string; reason: Checkpoint['reason']; metric_key: string | null; metric_value: number | null;
    }[];
    return rows.map((r) => ({ runId: r.run_id, step: r.step, path: r.path, reason: r.reason, metricKey: r.metric_key, metricValue: r.metric_value }));
  }
}
