// WAL checkpoints off the host's thread. SQLite checkpoints a WAL inside the commit
// that crosses `wal_autocheckpoint` pages: on a 1M-point file that commit held the
// host for 20-60 ms (measured, src/bench/tracker-scale.ts) while other writes took
// under 1 ms. The writer turns auto-checkpoints off and this worker thread, with its
// own connection, runs a PASSIVE checkpoint every second: PASSIVE never waits for
// the writer or readers, and the writer never waits for it (WAL lets them overlap).
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, workerData.nativeBinding ? { nativeBinding: workerData.nativeBinding } : {});
db.pragma('busy_timeout = 100');
const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
};
const timer = setInterval(tick, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'now') tick();
  if (m === 'close') {
    clearInterval(timer);
    try { db.close(); } catch {}
    parentPort.close();
  }
});
parentPort.postMessage({ ready: true });
`;

export interface Checkpointer {
  /** ask for a checkpoint now (tests, before a backup) */
  now(): void;
  close(): void;
}

/**
 * Starts the checkpointing thread for `file`; `onFail` runs if it cannot (the
 * caller then turns SQLite's own auto-checkpoints back on).
 */
export function startCheckpointer(file: string, opts: { nativeBinding?: string; everyMs?: number; onFail: (why: string) => void }): Checkpointer {
  let worker: Worker;
  try {
    worker = new Worker(WORKER, {
      eval: true,
      workerData: { file, nativeBinding: opts.nativeBinding, module: localRequire().resolve('better-sqlite3'), everyMs: opts.everyMs ?? 1000 },
    });
  } catch (e) {
    opts.onFail((e as Error).message);
    return { now: () => {}, close: () => {} };
  }
  let failed = false;
  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    opts.onFail(why);
  };
  worker.on('message', (m: { error?: string }) => {
    if (m?.error) fail(m.error);
  });
  worker.on('error', (e) => fail(e.message));
  worker.unref();
  return {
    now: () => worker.postMessage('now'),
    close: () => worker.postMessage('close'),
  };
}

/** a require that the bundler leaves alone (electron-vite CJS bundle, vitest, plain node) */
function localRequire(): NodeRequire {
  const base = typeof __filename === 'string' && isAbsolute(__filename) ? __filename : join(process.cwd(), 'index.js');
  return createRequire(base);
}
