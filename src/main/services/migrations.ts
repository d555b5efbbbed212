// Versioned schema. Append only: never edit an entry once released (the tracker
// refuses a database whose applied migration no longer matches its checksum).
export const migrations: { name: string; sql: string }[] = [
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
