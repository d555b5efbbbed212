// The host's side of the Import dialog: runs the engine's importer (plain Node, no
// tfjs) on a path of the workspace and writes the preview under
// <artifacts>/imports/<fingerprint>/. A bad file is an answer, not a failure.
//
// Reading and decoding a large dataset takes seconds (60,000 gzipped IDX images:
// ~1.5 s) and up to the file's unpack budget in memory (a compressed file may unpack
// to 256 × its size, at most 1/16 of the machine's memory: see
// engine/data/import/budget.ts). So the built host runs each inspection in a child
// process of its own that exits when it has answered: the host's event loop never
// waits for an import, and what the import allocated (zlib's output is memory
// outside V8's heap, which a worker thread's resourceLimits do not bound, and which
// a process keeps in its RSS after a worker frees it) goes away with the child. Run
// from sources (vitest) there is no built entry file, and it runs in the calling thread.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { inspectData } from '../../engine/data/import/preview';
import type { LoadOptions } from '../../engine/data/import/index';
import type { ImportSummary } from '../../shared/data-import';

export type InspectResult = { summary: ImportSummary | null; error: string | null };

export interface InspectRequest {
  workspaceDir: string;
  artifactsDir: string;
  path: string;
  options: Record<string, unknown>;
}

export function inspectNow(r: InspectRequest): InspectResult {
  try {
    return { summary: inspectData(r.path, r.options as LoadOptions, r.workspaceDir, r.artifactsDir), error: null };
  } catch (e) {
    return { summary: null, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The built child's entry (out/main/inspect-worker.js; this code may sit in out/main/chunks/), if there is one. */
function childFile(): string | null {
  for (const f of [join(__dirname, 'inspect-worker.js'), join(__dirname, '..', 'inspect-worker.js')]) if (existsSync(f)) return f;
  return null;
}

export function inspectForUi(workspaceDir: string, artifactsDir: string, path: string, options: Record<string, unknown> = {}): Promise<InspectResult> {
  const req: InspectRequest = { workspaceDir, artifactsDir, path, options };
  const file = childFile();
  if (!file) return Promise.resolve(inspectNow(req));
  return new Promise<InspectResult>((resolve) => {
    // Electron's main process forks itself as plain Node with ELECTRON_RUN_AS_NODE; Node ignores it.
    // No execArgv of the host's (an --inspect port would clash).
    const child = fork(file, [], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    const done = (r: InspectResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
      if (child.exitCode === null && child.signalCode === null) child.kill();
    };
    child.once('message', (r) => done(r as InspectResult));
    child.once('error', (e) => done({ summary: null, error: `the import failed: ${e.message}` }));
    child.once('exit', (code, signal) => done({ summary: null, error: `the import stopped (${signal ? `killed by ${signal}` : `exit code ${code}`}) before it answered` }));
    child.send(req);
  });
}
