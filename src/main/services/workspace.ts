// A workspace is a folder of notebooks (*.ipynb, nbformat 4) plus
// .latentlab/ (tracking.sqlite and artifacts/).
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { NbCell, Notebook, type NotebookEntry } from '../../shared/domain';
import { TrustStore } from './trust';

/** the largest notebook file opened (bigger ones open read-only, unparsed) */
export const MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024;
/** how much of a broken file's text is shown */
const RAW_SHOWN = 100_000;

/** A notebook as the UI opens it: read-only with the reason when the file does not parse. */
export interface NotebookFile {
  notebook: Notebook;
  /** why the file is read-only (it does not parse); null when it is a good notebook */
  readOnly: string | null;
  /** false: its code does not run until the user trusts it */
  trusted: boolean;
}

const SKIP = new Set(['.latentlab', 'node_modules', '.git', '.ipynb_checkpoints']);

export class Workspace {
  readonly dir: string;
  private trustStore: TrustStore | null;
  constructor(dir: string, opts: { trust?: TrustStore } = {}) {
    this.dir = resolve(dir);
    this.trustStore = opts.trust ?? null;
  }

  /** the user's trust store (the config folder's, unless one was given) */
  get trust(): TrustStore {
    return (this.trustStore ??= new TrustStore());
  }

  get dataDir(): string {
    return join(this.dir, '.latentlab');
  }
  get trackerFile(): string {
    return join(this.dataDir, 'tracking.sqlite');
  }
  get artifactsDir(): string {
    return join(this.dataDir, 'artifacts');
  }
  get name(): string {
    return basename(this.dir);
  }

  /** Creates the folders; copies the example notebooks into a workspace that has none. */
  init(examples?: string): void {
    mkdirSync(this.artifactsDir, { recursive: true });
    if (!examples || !existsSync(examples)) return;
    const copy = this.list().length === 0;
    for (const f of readdirSync(examples)) {
      if (!f.endsWith('.ipynb')) continue;
      // the app's own examples are trusted, copied now or in an earlier version
      try {
        this.trust.trust(JSON.parse(readFileSync(join(examples, f), 'utf8')) as Notebook);
      } catch {
        continue;
      }
      if (copy) copyFileSync(join(examples, f), join(this.dir, f));
    }
  }

  /** Resolves a workspace-relative path, refusing anything that escapes the folder. */
  resolve(rel: string): string {
    const abs = resolve(this.dir, rel);
    if (abs !== this.dir && !abs.startsWith(this.dir + sep)) throw new Error(`path escapes the workspace: ${rel}`);
    return abs;
  }

  list(): NotebookEntry[] {
    const out: NotebookEntry[] = [];
    const walk = (dir: string, depth: number) => {
      if (depth > 4) return;
      for (const name of readdirSync(dir).sort()) {
        if (SKIP.has(name)) continue;
        const abs = join(dir, name);
        let st;
        try {
          st = statSync(abs);
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(abs, depth + 1);
        else if (name.endsWith('.ipynb')) {
          const rel = relative(this.dir, abs).split(sep).join('/');
          const t = this.titleOf(abs);
          out.push({ path: rel, title: t.title ?? name.replace(/\.ipynb$/, ''), ...(t.problem ? { problem: t.problem } : {}) });
        }
      }
    };
    walk(this.dir, 0);
    return out;
  }

  /** The first Markdown heading of a notebook, if it has one. */
  private titleOf(abs: string): { title: string | null; problem?: string } {
    const { raw, problem } = readNotebookFile(abs);
    if (problem) return { title: null, problem }; // still listed, by its file name, marked
    const nb = raw as Notebook;
    for (const c of nb.cells) {
      if (c.cell_type !== 'markdown') continue;
      const src = Array.isArray(c.source) ? c.source.join('') : c.source;
      const m = /^#+\s+(.+)$/m.exec(src);
      if (m) return { title: m[1].trim() };
    }
    return { title: null };
  }

  /** A good notebook, or throws saying why the file is not one. */
  read(rel: string): Notebook {
    const abs = this.resolve(rel);
    const { raw, problem } = readNotebookFile(abs);
    if (problem) throw new Error(`${rel} ${problem}`);
    const nb = raw as Notebook;
    withIds(nb.cells);
    return nb;
  }

  /**
   * Opens a notebook for the UI; never throws for a bad file (only for a path
   * outside the workspace or a missing file). A file that does not parse opens
   * read-only: the cells that do parse, or else its text as one raw cell.
   */
  open(rel: string): NotebookFile {
    const abs = this.resolve(rel);
    if (!existsSync(abs)) throw new Error(`no notebook ${rel}`);
    const { raw, problem, text } = readNotebookFile(abs);
    if (!problem) {
      const nb = raw as Notebook;
      withIds(nb.cells);
      return { notebook: nb, readOnly: null, trusted: this.trust.isTrusted(nb) };
    }
    const cells: NbCell[] = [];
    const rawCells = (raw as { cells?: unknown } | undefined)?.cells;
    if (Array.isArray(rawCells)) {
      for (const c of rawCells.slice(0, 10_000)) {
        const p = NbCell.safeParse(c);
        if (p.success) cells.push(p.data);
      }
    }
    if (cells.length === 0) {
      const shown = text.length > RAW_SHOWN ? `${text.slice(0, RAW_SHOWN)}\n… (${text.length - RAW_SHOWN} more characters not shown)` : text;
      cells.push({ id: 'raw-text', cell_type: 'raw', source: shown, metadata: {} });
    }
    withIds(cells);
    // a file that does not parse never runs: nothing in it is trusted
    return { notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells }, readOnly: `${rel} ${problem}`, trusted: false };
  }

  /**
   * Writes atomically (temp file + rename), so a crash never leaves half a notebook.
   * Never overwrites an existing file that does not parse as a notebook. What the
   * app writes stays as trusted as the file it replaces (a new file is trusted).
   */
  write(rel: string, nb: Notebook): void {
    if (!rel.endsWith('.ipynb')) throw new Error('notebooks must end in .ipynb');
    const abs = this.resolve(rel);
    const parsed = Notebook.parse(nb);
    let trusted = true;
    if (existsSync(abs)) {
      const cur = readNotebookFile(abs);
      if (cur.problem) throw new Error(`${rel} was not saved: the file on disk ${cur.problem}, so it is read-only and left as it is (fix or rename it outside Latent Lab)`);
      trusted = this.trust.isTrusted(cur.raw as Notebook);
    }
    const tmp = `${abs}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(parsed, null, 1) + '\n');
    renameSync(tmp, abs);
    if (trusted) this.trust.trust(parsed);
  }

  /** The user's explicit choice: the notebook's code as it is on disk now may run. */
  trustNotebook(rel: string): NotebookFile {
    const f = this.open(rel);
    if (f.readOnly) throw new Error(`${f.readOnly}; a notebook that does not parse cannot be trusted`);
    this.trust.trust(f.notebook);
    return { ...f, trusted: true };
  }

  /**
   * Whether code of this notebook may run: a file in the workspace that is trusted;
   * a notebook not saved yet (no file) is being written by the user, so it may.
   */
  mayRun(rel: string): { ok: true } | { ok: false; reason: string } {
    let abs: string;
    try {
      abs = this.resolve(rel);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    if (!existsSync(abs)) return { ok: true };
    const { raw, problem } = readNotebookFile(abs);
    if (problem) return { ok: false, reason: `${rel} ${problem}; its cells do not run` };
    if (!this.trust.isTrusted(raw as Notebook)) {
      return { ok: false, reason: `${rel} is not trusted: it was not written by Latent Lab on this computer, so its code does not run until you trust it (the Trust button, or notebook.trust)` };
    }
    return { ok: true };
  }
}

/** a message on one line, at most 300 characters (JSON errors quote the file) */
const oneLine = (m: string) => {
  const s = m.replace(/\s+/g, ' ').trim();
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

function withIds(cells: NbCell[]): void {
  // nbformat 4.5 requires cell ids; older files get stable ones
  cells.forEach((c, i) => {
    if (!c.id) c.id = `cell-${i + 1}`;
  });
}

function headText(abs: string, bytes: number): string {
  const fd = openSync(abs, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and checks one notebook file. `problem` says what is wrong (e.g. "is not
 * valid JSON: …", "is not an nbformat 4 notebook: cells: expected array"); `raw`
 * is the parsed JSON when it parsed at all, `text` the file's text (or its start).
 */
export function readNotebookFile(abs: string): { raw: unknown; problem: string | null; text: string } {
  let size: number;
  try {
    const st = statSync(abs);
    if (!st.isFile()) return { raw: undefined, problem: 'is not a file', text: '' };
    size = st.size;
  } catch (e) {
    return { raw: undefined, problem: `cannot be read: ${(e as Error).message}`, text: '' };
  }
  if (size > MAX_NOTEBOOK_BYTES) {
    return { raw: undefined, problem: `is too large to open (${(size / 1048576).toFixed(1)} MB; the limit is ${MAX_NOTEBOOK_BYTES / 1048576} MB)`, text: headText(abs, RAW_SHOWN) };
  }
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    return { raw: undefined, problem: `cannot be read: ${(e as Error).message}`, text: '' };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const binary = text.includes('\u0000') || (text.match(/\uFFFD/g)?.length ?? 0) > 8;
    return { raw: undefined, problem: `is not valid JSON${binary ? ' (it looks like a binary file)' : ''}: ${oneLine((e as Error).message)}`, text };
  }
  const nb = Notebook.safeParse(raw);
  if (!nb.success) {
    const issue = nb.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    return { raw, problem: `is not an nbformat 4 notebook: ${where ? `${where}: ` : ''}${oneLine(issue?.message ?? 'unknown problem')}`, text };
  }
  return { raw: nb.data, problem: null, text };
}
