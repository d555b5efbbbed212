// Versioned schema. Append only: never edit an entry once released (the tracker
// refuses a database whose applied migration no longer matches its checksum).
export interface Migration {
  name: string;
  sql: string;
  /** a table rebuild: applied with foreign keys off (see migration 2) */
  foreignKeysOff?: boolean;
}

export const migrations: Migration[] = [
  {
    name: 'initial',
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  notebook TEXT NOT NULL,
  cell TEXT NOT NULL,
  name TEXT NOT NULL,
  family TEXT NOT NULL,
  config TEXT NOT NULL,
  code TEXT NOT NULL,
  data_fingerprint TEXT NOT NULL,
  data_name TEXT NOT NULL,
  seed INTEGER NOT NULL,
  backend TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running','finished','stopped','failed')),
  steps INTEGER NOT NULL DEFAULT 0,
  total_steps INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  heartbeat INTEGER,
  error TEXT
);
CREATE INDEX runs_notebook ON runs (notebook, started_at);
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  wall_time INTEGER NOT NULL,
  PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  kind TEXT NOT NULL,
  seed INTEGER,
  path TEXT NOT NULL,
  meta TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, path)
);
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  reason TEXT NOT NULL,
  metric_key TEXT,
  metric_value REAL,
  created_at INTEGER NOT NULL
);
`,
  },
];

/**
 * Migration 2 rebuilds `runs` (a wider CHECK: 'crashed', 'diverged'; an `owner`
 * column naming the host that trains the run). A table rebuild must run with
 * foreign keys OFF, or dropping the old `runs` would cascade-delete every metric,
 * artifact and checkpoint: the tracker turns them off around a migration marked
 * `foreignKeysOff`, outside the transaction (SQLite ignores the pragma inside one),
 * and runs `PRAGMA foreign_key_check` before it commits.
 */
migrations.push({
  name: 'crash safety: crashed/diverged statuses, run owner, run_finals',
  sql: `
CREATE TABLE runs_new (
  id TEXT PRIMARY KEY,
  notebook TEXT NOT NULL,
  cell TEXT NOT NULL,
  name TEXT NOT NULL,
  family TEXT NOT NULL,
  config TEXT NOT NULL,
  code TEXT NOT NULL,
  data_fingerprint TEXT NOT NULL,
  data_name TEXT NOT NULL,
  seed INTEGER NOT NULL,
  backend TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running','finished','stopped','failed','crashed','diverged')),
  steps INTEGER NOT NULL DEFAULT 0,
  total_steps INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  heartbeat INTEGER,
  error TEXT,
  owner TEXT
);
INSERT INTO runs_new (id, notebook, cell, name, family, config, code, data_fingerprint, data_name, seed, backend,
  status, steps, total_steps, started_at, ended_at, heartbeat, error, owner)
  SELECT id, notebook, cell, name, family, config, code, data_fingerprint, data_name, seed, backend,
  status, steps, total_steps, started_at, ended_at, heartbeat, error, NULL FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
CREATE INDEX runs_notebook ON runs (notebook, started_at);
CREATE INDEX runs_started ON runs (started_at);
CREATE INDEX artifacts_step ON artifacts (run_id, step);
CREATE INDEX checkpoints_run ON checkpoints (run_id, step);
CREATE TABLE run_finals (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO run_finals (run_id, key, step, value)
  SELECT m.run_id, m.key, m.step, m.value FROM metrics m
  JOIN (SELECT run_id, key, MAX(step) AS step FROM metrics GROUP BY run_id, key) last
    ON m.run_id = last.run_id AND m.key = last.key AND m.step = last.step;
`,
  foreignKeysOff: true,
});

/**
 * Migration 3: what a resume replays before the run's own cell. `replay` holds a JSON
 * list of { cellId, code }: the cells of the run's notebook that had run in its kernel
 * before the training cell (the parameters cell, `latentlab run`'s -p values, data
 * cells), so a fresh engine can rebuild what the cell reads.
 */
migrations.push({
  name: 'runs.replay: the cells a resume runs before the training cell',
  sql: `ALTER TABLE runs ADD COLUMN replay TEXT;`,
});

/**
 * Migration 4: runs.renamed — 1 when the user renamed the run (its name is then shown
 * as it is, not made from what differs from its siblings).
 */
migrations.push({
  name: 'runs.renamed: a name the user gave the run',
  sql: `ALTER TABLE runs ADD COLUMN renamed INTEGER NOT NULL DEFAULT 0;`,
});
