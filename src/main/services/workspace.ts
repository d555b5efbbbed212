// A workspace is a folder of notebooks (*.ipynb, nbformat 4) plus
// .latentlab/ (tracking.sqlite and artifacts/).
import { closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
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

  /** the workspace folder's real path (symlinks followed), once it exists */
  private realDir(): string {
    try {
      return realpathSync(this.dir);
    } catch {
      return this.dir;
    }
  }

  /** whether `real` (a real path) lies in the workspace folder's real path */
  private isInside(real: string): boolean {
    const root = this.realDir();
    return real === root || real.startsWith(root + sep);
  }

  /**
   * Resolves a workspace-relative path, refusing anything that escapes the folder,
   * by its name (`..`, an absolute path) or through a symlink (a linked file or a
   * linked folder on the way): the real path of the file, or of the deepest folder
   * of it that exists, must lie in the workspace's real folder.
   */
  resolve(rel: string): string {
    const abs = resolve(this.dir, rel);
    if (abs !== this.dir && !abs.startsWith(this.dir + sep)) throw new Error(`path escapes the workspace: ${rel}`);
    let probe = abs;
    for (;;) {
      let real: string | null = null;
      try {
        real = realpathSync(probe);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new Error(`cannot resolve ${rel}: ${(e as Error).message}`);
        // a dangling symlink is refused: where it leads may be outside
        let link = false;
        try {
          link = lstatSync(probe).isSymbolicLink();
        } catch {
          /* nothing there: look at its folder */
        }
        if (link) throw new Error(`path escapes the workspace: ${rel} (a broken symbolic link)`);
      }
      if (real !== null) {
        if (!this.isInside(real)) throw new Error(`path escapes the workspace: ${rel} (a symbolic link leads outside it)`);
        return abs;
      }
      const up = dirname(probe);
      if (up === probe) return abs;
      probe = up;
    }
  }

  /**
   * The notebooks of the workspace (4 folders deep). A notebook is parsed for its
   * title only when its size or mtime changed since the last listing, so listing a
   * workspace with a 16 MB notebook costs a stat, not a parse. Links that lead
   * outside the workspace are left out.
   */
  list(): NotebookEntry[] {
    const out: NotebookEntry[] = [];
    const seen = new Set<string>();
    const walk = (dir: string, depth: number) => {
      if (depth > 4) return;
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        return;
      }
      for (const name of names) {
        if (SKIP.has(name)) continue;
        const abs = join(dir, name);
        let st;
        try {
          st = statSync(abs);
          if (lstatSync(abs).isSymbolicLink() && !this.isInside(realpathSync(abs))) continue;
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(abs, depth + 1);
        else if (name.endsWith('.ipynb')) {
          const rel = relative(this.dir, abs).split(sep).join('/');
          seen.add(abs);
          const t = this.summaryOf(abs, st);
          out.push({ path: rel, title: t.title ?? name.replace(/\.ipynb$/, ''), ...(t.problem ? { problem: t.problem } : {}) });
        }
      }
    };
    walk(this.dir, 0);
    for (const k of this.summaries.keys()) if (!seen.has(k)) this.summaries.delete(k);
    return out;
  }

  /**
   * abs path → what the list and the trust check need of a notebook file (its title,
   * its code cells, or why it is not a notebook), read at that size, mtime and inode:
   * a file is parsed once per change, not on every list or cell run
   */
  private summaries = new Map<string, NotebookSummary & { size: number; mtimeMs: number; ino: number }>();
  /** how many notebook files were parsed for their summary (the cache's misses) */
  titleParses = 0;

  /** `known`: the file's stat when the caller has it */
  private summaryOf(abs: string, known?: Stats): NotebookSummary {
    let st = known;
    try {
      st ??= statSync(abs);
    } catch (e) {
      return { title: null, problem: `cannot be read: ${(e as Error).message}`, code: [] };
    }
    const hit = this.summaries.get(abs);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) return hit;
    this.titleParses++;
    const entry = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, ...summarize(abs) };
    if (this.summaries.size > 10_000) this.summaries.clear();
    this.summaries.set(abs, entry);
    return entry;
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
   * app writes stays as trusted as the file it replaces. A new file gains no trust by
   * being written: it is trusted when it has no code, or when its code is already
   * trusted (a copy of a trusted notebook).
   */
  write(rel: string, nb: Notebook): void {
    if (!rel.endsWith('.ipynb')) throw new Error('notebooks must end in .ipynb');
    const abs = this.resolve(rel);
    const parsed = Notebook.parse(nb);
    let trusted = false;
    if (existsSync(abs)) {
      const cur = readNotebookFile(abs);
      if (cur.problem) throw new Error(`${rel} was not saved: the file on disk ${cur.problem}, so it is read-only and left as it is (fix or rename it outside Latent Lab)`);
      trusted = this.trust.isTrusted(cur.raw as Notebook);
    }
    const tmp = `${abs}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(parsed, null, 1) + '\n');
      renameSync(tmp, abs);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new Error(`${rel} was not saved: ${(e as Error).message}`);
    }
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
   * Whether `code` may run as a cell of this notebook. Trust rests on what runs: the
   * notebook must be a file of the workspace that parses and is trusted, and `code`
   * must be the text of one of its code cells as the file holds it now (the app
   * saves a notebook before it runs an edited cell). A notebook that is not saved
   * yet, or code that is not in the file, does not run.
   */
  mayRun(rel: string, code?: string): { ok: true } | { ok: false; reason: string } {
    const t = this.trustedCode(rel);
    if (!t.ok) return t;
    if (code !== undefined && !t.code.includes(code)) {
      return { ok: false, reason: `this code is not a cell of ${rel} as saved: save the notebook, then run the cell (only code that a trusted notebook holds runs)` };
    }
    return { ok: true };
  }

  /** The texts of the code cells of a notebook of the workspace that parses and is trusted, or why it is not one. */
  trustedCode(rel: string): { ok: true; code: string[] } | { ok: false; reason: string } {
    let abs: string;
    try {
      abs = this.resolve(rel);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    if (!existsSync(abs)) return { ok: false, reason: `no notebook ${rel} in the workspace: save it before running its cells` };
    const { problem, code } = this.summaryOf(abs);
    if (problem) return { ok: false, reason: `${rel} ${problem}; its cells do not run` };
    if (!this.trust.isTrusted({ cells: code.map((source) => ({ cell_type: 'code', source })) })) {
      return { ok: false, reason: `${rel} is not trusted: it was not written by Latent Lab on this computer, so its code does not run until you trust it (the Trust button, or notebook.trust)` };
    }
    return { ok: true, code };
  }
}

/** What the list and the trust check read of a notebook file. */
interface NotebookSummary {
  /** its first Markdown heading */
  title: string | null;
  /** why the file is not a notebook (it is still listed, by its file name, marked) */
  problem?: string;
  /** the texts of its code cells */
  code: string[];
}

function summarize(abs: string): NotebookSummary {
  const { raw, problem } = readNotebookFile(abs);
  if (problem) return { title: null, problem, code: [] };
  const nb = raw as Notebook;
  let title: string | null = null;
  for (const c of nb.cells) {
    if (c.cell_type !== 'markdown') continue;
    const m = /^#+\s+(.+)$/m.exec(Array.isArray(c.source) ? c.source.join('') : c.source);
    if (m) {
      title = m[1].trim();
      break;
    }
  }
  return { title, code: codeCells(nb) };
}

/** a message on one line, at most 300 characters (JSON errors quote the file) */
const oneLine = (m: string) => {
  const s = m.replace(/\s+/g, ' ').trim();
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

/** the texts of a notebook's code cells, in order */
function codeCells(nb: Notebook): string[] {
  return nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
}

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
