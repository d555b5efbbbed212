// The host's side of the Import dialog: runs the engine's importer (plain Node, no
// tfjs) on a path of the workspace and writes the preview under
// <artifacts>/imports/<fingerprint>/. A bad file is an answer, not a failure.
//
// Reading and decoding a large dataset takes seconds (60,000 gzipped IDX images:
// ~1.5 s), so the built host runs it in a worker thread: the host's event loop (and
// every tracker write it does meanwhile) never waits for an import. Run from sources
// (vitest) there is no built worker file, and it runs in the calling thread.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
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

/** The built worker (out/main/inspect-worker.js; this code may sit in out/main/chunks/), if there is one. */
function workerFile(): string | null {
  for (const f of [join(__dirname, 'inspect-worker.js'), join(__dirname, '..', 'inspect-worker.js')]) if (existsSync(f)) return f;
  return null;
}

export function inspectForUi(workspaceDir: string, artifactsDir: string, path: string, options: Record<string, unknown> = {}): Promise<InspectResult> {
  const req: InspectRequest = { workspaceDir, artifactsDir, path, options };
  const file = workerFile();
  if (!file) return Promise.resolve(inspectNow(req));
  return new Promise<InspectResult>((resolve) => {
    const worker = new Worker(file, { workerData: req });
    let settled = false;
    const done = (r: InspectResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
      void worker.terminate();
    };
    worker.once('message', (r: InspectResult) => done(r));
    worker.once('error', (e) => done({ summary: null, error: `the import failed: ${e.message}` }));
    worker.once('exit', (code) => done({ summary: null, error: `the import stopped (worker exit code ${code})` }));
  });
}
