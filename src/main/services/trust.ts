// Which notebooks the user trusts to run, as in Jupyter: a notebook's code runs
// only when its digest is in the user's trust store. The store lives outside any
// workspace (the user's config folder), so a notebook copied into a workspace
// cannot bring its own trust along.
//
// The digest covers what can run: the cell types and sources of the notebook's
// code cells, in order. Outputs, Markdown and metadata are not code (the UI shows
// outputs as text, images and Plotly data, never as HTML or script), so editing
// them never changes trust; changing any code outside the app does.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** the most digests kept: the least recently used ones go first */
const MAX_ENTRIES = 10_000;

interface CellLike {
  cell_type?: unknown;
  source?: unknown;
}

const sourceText = (s: unknown): string => (Array.isArray(s) ? s.map(String).join('') : typeof s === 'string' ? s : '');

/** sha256 over the notebook's code cells (their order and exact text). */
export function notebookDigest(nb: { cells?: readonly CellLike[] }): string {
  const h = createHash('sha256');
  h.update('latentlab-trust-v1\n');
  for (const c of nb.cells ?? []) {
    if (c.cell_type !== 'code') continue;
    const src = Buffer.from(sourceText(c.source), 'utf8');
    // length-prefixed, so no two different cell lists hash alike
    h.update(`${src.length}:`);
    h.update(src);
  }
  return h.digest('hex');
}

/**
 * sha256 over a run's recorded code: the cells a resume replays, then the run's own
 * cell. Its own prefix, so it never equals a notebook's digest.
 */
export function codeDigest(parts: readonly string[]): string {
  const h = createHash('sha256');
  h.update('latentlab-run-code-v1\n');
  for (const p of parts) {
    const src = Buffer.from(p, 'utf8');
    h.update(`${src.length}:`);
    h.update(src);
  }
  return h.digest('hex');
}

/** true when the notebook has no code at all: nothing in it can run */
export function hasNoCode(nb: { cells?: readonly CellLike[] }): boolean {
  return !(nb.cells ?? []).some((c) => c.cell_type === 'code' && sourceText(c.source).trim() !== '');
}

/** The user's config folder for Latent Lab: $LATENTLAB_CONFIG_DIR, else $XDG_CONFIG_HOME/latentlab, else ~/.config/latentlab. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LATENTLAB_CONFIG_DIR) return env.LATENTLAB_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'latentlab');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'latentlab');
  return join(homedir(), '.config', 'latentlab');
}

export class TrustStore {
  readonly file: string;
  /** digests trusted in this process, kept even when the file cannot be written */
  private session = new Set<string>();

  constructor(dir: string = configDir(), private readonly log: (msg: string) => void = () => {}) {
    this.file = join(dir, 'trust.json');
  }

  /** digest → last time it was trusted or checked (ms) */
  private load(): Record<string, number> {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { version?: unknown; digests?: unknown };
      if (data.version !== 1 || typeof data.digests !== 'object' || data.digests === null) return {};
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(data.digests as Record<string, unknown>)) {
        if (/^[0-9a-f]{64}$/.test(k) && typeof v === 'number') out[k] = v;
      }
      return out;
    } catch {
      return {}; // no store yet, or an unreadable one: nothing is trusted
    }
  }

  isTrusted(nb: { cells?: readonly CellLike[] }): boolean {
    if (hasNoCode(nb)) return true;
    return this.hasDigest(notebookDigest(nb));
  }

  /** Whether this code (a run's replayed cells and its own cell) ran here from a trusted source. */
  isCodeTrusted(parts: readonly string[]): boolean {
    return this.hasDigest(codeDigest(parts));
  }

  /** Remembers code that ran from a trusted source (a run's cells), so it may run again on resume. */
  trustCode(parts: readonly string[]): void {
    this.add(codeDigest(parts));
  }

  private hasDigest(d: string): boolean {
    return this.session.has(d) || Object.hasOwn(this.load(), d);
  }

  /** Adds the notebook's digest. Re-reads the file first, so other processes' entries are kept. */
  trust(nb: { cells?: readonly CellLike[] }): void {
    this.add(notebookDigest(nb));
  }

  private add(d: string): void {
    this.session.add(d);
    const all = this.load();
    if (Object.hasOwn(all, d)) return; // already there: no write
    all[d] = Date.now();
    let entries = Object.entries(all);
    if (entries.length > MAX_ENTRIES) entries = entries.sort((a, b) => b[1] - a[1]).slice(0, MAX_ENTRIES);
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, JSON.stringify({ version: 1, digests: Object.fromEntries(entries) }) + '\n', { mode: 0o600 });
        renameSync(tmp, this.file);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    } catch (e) {
      this.log(`could not save the trust store ${this.file}: ${(e as Error).message} (trusted for this session only)`);
    }
  }
}
