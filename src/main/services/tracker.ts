// The run tracker: one SQLite file per workspace (better-sqlite3, WAL).
// One writer (the host process). Migrations are versioned and checksummed:
// editing a migration that a database already applied is refused.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve as resolvePath, sep as pathSep } from 'node:path';
import Database from 'better-sqlite3';
import { formatParams } from '../../shared/compare';
import type { Artifact, Checkpoint, MetricPoint, RunRecord, RunStatus, SeriesData } from '../../shared/domain';
import { migrations } from './migrations';
import { startCheckpointer, type Checkpointer } from './wal-checkpointer';

type Db = Database.Database;

export interface TrackerOptions {
  /** better-sqlite3's native binding, for the Electron build (different ABI). */
  nativeBinding?: string;
  /**
   * WAL checkpoints in a worker thread instead of inside some commits (the host: a
   * write never holds its thread for a checkpoint); default off (short-lived readers)
   */
  backgroundCheckpoints?: boolean;
}

interface RunRow {
  id: string; notebook: string; cell: string; name: string; family: string; config: string; code: string;
  data_fingerprint: string; data_name: string; seed: number; backend: string; status: string; steps: number;
  total_steps: number; started_at: number; ended_at: number | null; heartbeat: number | null; error: string | null;
  owner: string | null; replay?: string | null; renamed?: number;
}

/** This host's name in a run's `owner` column: `<hostname>:<pid>`. */
export const hostOwner = (pid = process.pid): string => `${hostname()}:${pid}`;

/** Whether a process of this machine is alive (signal 0 checks without sending). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run's owner is gone: a dead process of this machine, or (another machine) no heartbeat for `staleMs`. */
export function ownerGone(owner: string | null, heartbeat: number | null, staleMs = 120_000, now = Date.now()): boolean {
  if (!owner) return true; // written before owners were recorded: its host is gone
  const at = owner.lastIndexOf(':');
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (host === hostname() && Number.isInteger(pid)) return pid !== process.pid && !processAlive(pid);
  return heartbeat === null || now - heartbeat > staleMs;
}

/** What a resumed run starts from (see Tracker.resumeRun). */
export interface ResumePoint {
  step: number;
  /** manifest of the periodic/final checkpoint at `step`, relative to the artifacts dir */
  checkpoint: string;
  /** the best checkpoint's metric value at or before `step` (the resumed run keeps beating it) */
  bestValue: number | null;
}

/** a code cell a resume runs again, as it ran before the run's cell */
export interface ReplayCell {
  cellId: string;
  code: string;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export class Tracker {
  readonly db: Db;
  private insertMetric: Database.Statement;
  private upsertFinal: Database.Statement;
  private bumpSteps: Database.Statement;
  private bumpHeartbeat: Database.Statement;
  private finalsOf: Database.Statement;
  private checkpointer: Checkpointer | null = null;

  constructor(readonly file: string, opts: TrackerOptions = {}) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
    // busy_timeout first: two hosts opening one new file at once both switch it to WAL
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    // once checkpointed, a WAL that grew (a burst of writes) is cut back to 16 MB
    this.db.pragma('journal_size_limit = 16777216');
    this.migrate();
    this.insertMetric = this.db.prepare(
      'INSERT OR REPLACE INTO metrics (run_id, key, step, value, wall_time) VALUES (?, ?, ?, ?, ?)',
    );
    // run_finals keeps each key's last point, so listing runs never scans metrics
    this.upsertFinal = this.db.prepare(
      `INSERT INTO run_finals (run_id, key, step, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, value = excluded.value WHERE excluded.step >= run_finals.step`,
    );
    this.bumpSteps = this.db.prepare('UPDATE runs SET steps = MAX(steps, ?), heartbeat = ? WHERE id = ?');
    this.bumpHeartbeat = this.db.prepare('UPDATE runs SET heartbeat = ? WHERE id = ?');
    this.finalsOf = this.db.prepare('SELECT key, value FROM run_finals WHERE run_id = ?');
    if (opts.backgroundCheckpoints) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = startCheckpointer(file, {
        nativeBinding: opts.nativeBinding,
        onFail: () => {
          // no thread: SQLite checkpoints in the commits again
          if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
        },
      });
    }
  }

  /** a WAL checkpoint now, in the background thread when there is one */
  checkpointSoon(): void {
    if (this.checkpointer) this.checkpointer.now();
    else this.db.pragma('wal_checkpoint(PASSIVE)');
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
      // a table rebuild runs with foreign keys off (the pragma is a no-op inside a
      // transaction), so dropping the old table cascades nothing
      if (m.foreignKeysOff) this.db.pragma('foreign_keys = OFF');
      try {
        // IMMEDIATE: two hosts opening one workspace at once apply each migration once
        this.db.transaction(() => {
          if (this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(v)) return; // the other host did it
          this.db.exec(m.sql);
          if (m.foreignKeysOff) {
            const broken = this.db.pragma('foreign_key_check') as unknown[];
            if (broken.length > 0) throw new Error(`migration ${v} (${m.name}) left ${broken.length} rows with a dangling reference`);
          }
          this.db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)').run(v, m.name, sha(m.sql), Date.now());
        }).immediate();
      } finally {
        if (m.foreignKeysOff) this.db.pragma('foreign_keys = ON');
      }
    }
    const newest = Math.max(0, ...applied.keys());
    if (newest > migrations.length) {
      throw new Error(`${this.file} was written by a newer Latent Lab (schema ${newest} > ${migrations.length})`);
    }
  }

  close(): void {
    this.checkpointer?.close();
    this.checkpointer = null;
    this.db.close();
  }

  /** `replay`: the cells a resume runs before the run's own cell (see migration 3) */
  insertRun(run: RunRecord, replay: ReplayCell[] = []): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, notebook, cell, name, family, config, code, data_fingerprint, data_name, seed, backend,
          status, steps, total_steps, started_at, ended_at, heartbeat, error, owner, replay)
         VALUES (@id, @notebook, @cell, @name, @family, @config, @code, @dataFingerprint, @dataName, @seed, @backend,
          @status, @steps, @totalSteps, @startedAt, @endedAt, @heartbeat, @error, @owner, @replay)`,
      )
      .run({ ...run, config: JSON.stringify(run.config), owner: hostOwner(), replay: JSON.stringify(replay) });
  }

  /**
   * The cells a resume of this run replays before its own cell; null for a run
   * recorded before they were kept (or whose list does not parse).
   */
  replayOf(runId: string): ReplayCell[] | null {
    const row = this.db.prepare('SELECT replay FROM runs WHERE id = ?').get(runId) as { replay: string | null } | undefined;
    if (!row || row.replay === null) return null;
    try {
      const list = JSON.parse(row.replay) as unknown;
      if (!Array.isArray(list)) return null;
      const ok = list.every((c) => typeof c === 'object' && c !== null && typeof (c as ReplayCell).cellId === 'string' && typeof (c as ReplayCell).code === 'string');
      return ok ? (list as ReplayCell[]) : null;
    } catch {
      return null;
    }
  }

  /** Writes a batch of points in one transaction and bumps the run's heartbeat. */
  addMetrics(runId: string, points: MetricPoint[], steps?: number): void {
    const now = Date.now();
    const last = new Map<string, MetricPoint>();
    for (const p of points) {
      const l = last.get(p.key);
      if (!l || p.step >= l.step) last.set(p.key, p);
    }
    this.db.transaction(() => {
      for (const p of points) this.insertMetric.run(runId, p.key, p.step, p.value, p.wallTime);
      for (const p of last.values()) this.upsertFinal.run(runId, p.key, p.step, p.value);
      if (steps !== undefined) this.bumpSteps.run(steps, now, runId);
      else this.bumpHeartbeat.run(now, runId);
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

  /**
   * Runs left 'running' by a host that is gone (killed, power cut) are marked crashed.
   * A run another live host is training (two hosts on one workspace) is left alone.
   */
  markOrphansCrashed(reason = 'the host process stopped while this run was training (killed or crashed)', gone = ownerGone): number {
    const rows = this.db.prepare(`SELECT id, owner, heartbeat FROM runs WHERE status = 'running'`).all() as { id: string; owner: string | null; heartbeat: number | null }[];
    const mark = this.db.prepare(`UPDATE runs SET status = 'crashed', ended_at = COALESCE(heartbeat, started_at), error = ? WHERE id = ? AND status = 'running'`);
    let n = 0;
    for (const r of rows) if (gone(r.owner, r.heartbeat)) n += mark.run(reason, r.id).changes;
    return n;
  }

  /**
   * Where a crashed, stopped, failed or diverged run can resume: its newest periodic or
   * final checkpoint (best checkpoints are snapshots, not points on the run's path).
   */
  resumePoint(runId: string): ResumePoint | null {
    const c = this.db
      .prepare(`SELECT step, path FROM checkpoints WHERE run_id = ? AND reason IN ('periodic', 'final') ORDER BY step DESC, id DESC LIMIT 1`)
      .get(runId) as { step: number; path: string } | undefined;
    if (!c) return null;
    const best = this.db
      .prepare(`SELECT metric_value AS v FROM checkpoints WHERE run_id = ? AND reason = 'best' AND step <= ? ORDER BY step DESC LIMIT 1`)
      .get(runId, c.step) as { v: number | null } | undefined;
    return { step: c.step, checkpoint: c.path, bestValue: best?.v ?? null };
  }

  /**
   * A run resumes at `step` (its checkpoint): what the dead run logged after it is
   * dropped (metrics, artifact rows, checkpoints), as TensorBoard does, and the run
   * is 'running' again, owned by this host. One transaction.
   */
  resumeRun(runId: string, step: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step);
      this.db.prepare('DELETE FROM artifacts WHERE run_id = ? AND step > ?').run(runId, step);
      this.db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND step > ?').run(runId, step);
      this.db.prepare('DELETE FROM run_finals WHERE run_id = ?').run(runId);
      this.db
        .prepare(
          `INSERT INTO run_finals (run_id, key, step, value)
           SELECT m.run_id, m.key, m.step, m.value FROM metrics m
           JOIN (SELECT key, MAX(step) AS step FROM metrics WHERE run_id = @run GROUP BY key) last
             ON m.key = last.key AND m.step = last.step
           WHERE m.run_id = @run`,
        )
        .run({ run: runId });
      this.db
        .prepare(`UPDATE runs SET status = 'running', steps = ?, ended_at = NULL, error = NULL, heartbeat = ?, owner = ? WHERE id = ?`)
        .run(step, Date.now(), hostOwner(), runId);
    })();
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
    const finals = this.finalsOf.all(r.id) as { key: string; value: number }[];
    return {
      id: r.id, notebook: r.notebook, cell: r.cell, name: r.name, family: r.family,
      config: JSON.parse(r.config) as Record<string, unknown>, code: r.code,
      dataFingerprint: r.data_fingerprint, dataName: r.data_name, seed: r.seed, backend: r.backend,
      status: r.status as RunStatus, steps: r.steps, totalSteps: r.total_steps, startedAt: r.started_at,
      endedAt: r.ended_at, heartbeat: r.heartbeat, error: r.error,
      finalMetrics: Object.fromEntries(finals.map((f) => [f.key, f.value])),
      ...(r.renamed ? { renamed: true } : {}),
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

  /** The user's name for a run (shown as it is from then on); an empty name gives the run its made name back. */
  renameRun(id: string, name: string): RunRecord {
    const run = this.getRun(id);
    if (!run) throw new Error(`no run ${id}`);
    const clean = name.replace(/\s+/g, ' ').trim();
    if (clean.length > 200) throw new Error('a run name is at most 200 characters');
    if (clean === '') {
      // back to the made name: the engine's family-data name, with a sweep's values
      const sweep = run.config.sweep as { params?: Record<string, unknown> } | undefined;
      const made = `${run.family}-${run.dataName}${sweep?.params ? ` ${formatParams(sweep.params)}` : ''}`;
      const user = (run.config.train as { name?: unknown } | undefined)?.name;
      this.db.prepare('UPDATE runs SET name = ?, renamed = 0 WHERE id = ?').run(typeof user === 'string' ? user : made, id);
    } else this.db.prepare('UPDATE runs SET name = ?, renamed = 1 WHERE id = ?').run(clean, id);
    return this.getRun(id)!;
  }

  /**
   * Deletes a run that is not running: its rows (metrics, artifacts, checkpoints go by
   * ON DELETE CASCADE) in one transaction, then its files under `artifactsDir`: its own
   * folder (<artifacts>/<run id>/: samples, checkpoints) and any other file its
   * artifact or checkpoint rows name. Returns how many files and folders were removed.
   */
  deleteRun(id: string, artifactsDir: string): { removed: number } {
    const run = this.getRun(id);
    if (!run) throw new Error(`no run ${id}`);
    if (run.status === 'running') throw new Error(`run ${run.name} (${id}) is running: stop it before deleting it`);
    const paths = [...this.artifacts(id).map((a) => a.path), ...this.checkpoints(id).map((c) => c.path)];
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
    })();
    let removed = 0;
    const root = resolvePath(artifactsDir);
    const inside = (p: string) => p.startsWith(root + pathSep);
    const rm = (rel: string) => {
      if (rel === '' || rel.includes('\0') || rel.split(/[\\/]/).some((x) => x === '..')) return;
      const abs = resolvePath(root, rel);
      if (!inside(abs) || !existsSync(abs)) return;
      try {
        // a link is removed as a link (rmSync does not follow it)
        rmSync(abs, { recursive: true, force: true });
        removed++;
      } catch {
        /* a file that will not go (permissions): the run's rows are gone all the same */
      }
    };
    // the run's folder by its id (ids are the engine's r-<stamp>-<hex>; anything else is not a folder name)
    if (/^[A-Za-z0-9_.-]+$/.test(id) && id !== '.' && id !== '..') rm(id);
    for (const p of paths) rm(p);
    // a checkpoint's manifest names its weight files beside it (step-N.json → step-N.*): gone with the folder
    return { removed };
  }

  /** The runs of a notebook follow it when it is renamed (their `notebook` path). */
  renameNotebook(from: string, to: string): number {
    return this.db.prepare('UPDATE runs SET notebook = ? WHERE notebook = ?').run(to, from).changes;
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
    // rows as arrays (raw): building an object per row cost more than the query itself
    let rows: [number, number, number][];
    if (n <= maxPoints || lo === null || hi === null) {
      rows = this.db.prepare('SELECT step, value, wall_time AS t FROM metrics WHERE run_id = ? AND key = ? ORDER BY step').raw().all(runId, key) as typeof rows;
    } else {
      const buckets = Math.max(1, Math.floor(maxPoints / 2));
      const width = (hi - lo + 1) / buckets;
      // one pass over the curve (its primary-key range, in step order), grouped by bucket:
      // SQLite's MIN()/MAX() carry the other columns of the row they picked (the first
      // such row in step order on a tie); a bucket of one point gives it once
      rows = this.db
        .prepare(
          `SELECT step, value, t FROM (
             SELECT CAST((step - @lo) / @width AS INTEGER) AS bucket, step, MIN(value) AS value, wall_time AS t
               FROM metrics WHERE run_id = @run AND key = @key GROUP BY bucket
             UNION
             SELECT CAST((step - @lo) / @width AS INTEGER) AS bucket, step, MAX(value) AS value, wall_time AS t
               FROM metrics WHERE run_id = @run AND key = @key GROUP BY bucket)
           ORDER BY step`,
        )
        .raw()
        .all({ lo, width, run: runId, key }) as typeof rows;
    }
    return { key, steps: rows.map((r) => r[0]), values: rows.map((r) => r[1]), times: rows.map((r) => r[2]) };
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
