// A workspace is a folder of notebooks (*.ipynb, nbformat 4) plus
// .latentlab/ (tracking.sqlite and artifacts/).
import { closeSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { NbCell, Notebook, type NotebookEntry } from '../../shared/domain';
import { notebookFamily } from '../../shared/families';
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

  /** file names of the notebooks the app ships (a shipped notebook without a model is in 'basics', the user's own in 'mine') */
  readonly shipped = new Set<string>();

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
      this.shipped.add(f);
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
          const family = t.problem ? 'mine' : notebookFamily(t.code, t.metadata, this.shipped.has(rel));
          out.push({ path: rel, title: t.title ?? name.replace(/\.ipynb$/, ''), family, ...(t.problem ? { problem: t.problem } : {}) });
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

  // --- managing notebooks from the app: new, duplicate, rename, delete ---

  /**
   * A checked workspace-relative notebook path for a new or renamed notebook: `.ipynb`
   * is added when missing; each folder and file name must be a plain name (no
   * characters that some systems refuse, no leading dot, no `..`); the path must stay
   * in the workspace (symlinks too) and name no file that exists (whatever its case).
   */
  newNotebookPath(name: string): string {
    let rel = name.trim().replace(/\\/g, '/');
    if (rel === '') throw new Error('a notebook needs a name');
    if (rel.startsWith('/') || /^[a-zA-Z]:\//.test(rel)) throw new Error(`path escapes the workspace: ${name} (give a name inside the workspace)`);
    if (!/\.ipynb$/i.test(rel)) rel += '.ipynb';
    const parts = rel.split('/');
    for (const p of parts) {
      if (p === '..' || p === '.') throw new Error(`path escapes the workspace: ${name}`);
      if (p === '') throw new Error(`"${name}" has an empty folder name`);
      if (/[<>:"|?*\u0000-\u001f]/.test(p)) throw new Error(`"${p}" has a character a file name cannot hold (< > : " | ? * or a control character)`);
      if (p.startsWith('.')) throw new Error(`"${p}" starts with a dot (a hidden file): choose a name without it`);
      if (p.length > 120) throw new Error(`"${p.slice(0, 40)}…" is too long (at most 120 characters)`);
      if (SKIP.has(p)) throw new Error(`"${p}" is a folder Latent Lab keeps for itself`);
    }
    if (parts.length > 4) throw new Error(`"${name}" is too deep (at most 3 folders)`);
    const abs = this.resolve(rel);
    if (existsSync(abs)) throw new Error(`a notebook named ${rel} exists already: choose another name`);
    // a case-insensitive file system would overwrite a sibling that differs only in case
    try {
      const lower = basename(abs).toLowerCase();
      const clash = readdirSync(dirname(abs)).find((f) => f.toLowerCase() === lower);
      if (clash) throw new Error(`a notebook named ${clash} exists already: choose another name`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return rel;
  }

  /** Writes a new notebook (folders made as needed) without overwriting anything. */
  private writeNew(rel: string, nb: Notebook): void {
    const abs = this.resolve(rel);
    mkdirSync(dirname(abs), { recursive: true });
    const tmp = `${abs}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(Notebook.parse(nb), null, 1) + '\n');
      // link + unlink: fails (EEXIST) rather than replace a file that appeared meanwhile
      linkSync(tmp, abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code === 'EEXIST' ? `a notebook named ${rel} exists already: choose another name` : `${rel} was not written: ${(e as Error).message}`);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /**
   * A new notebook: a title heading and one empty code cell. It is the user's own, so
   * it is trusted (its code runs once written, as the user edits it in the app).
   */
  create(name: string, title?: string): string {
    const rel = this.newNotebookPath(name);
    const heading = (title ?? '').trim() || basename(rel).replace(/\.ipynb$/i, '');
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'latentlab', display_name: 'Latent Lab (TypeScript)', language: 'typescript' } },
      cells: [
        { id: 'title', cell_type: 'markdown', metadata: {}, source: `# ${heading}\n` },
        { id: 'cell-1', cell_type: 'code', metadata: {}, source: '', outputs: [], execution_count: null },
      ],
    };
    this.writeNew(rel, nb);
    this.trust.trust(nb);
    return rel;
  }

  /**
   * A copy of a notebook beside it (`<name> copy.ipynb`, `<name> copy 2.ipynb`, … unless
   * `name` is given), its title marked "(copy)". Its code is the original's, so it is
   * trusted exactly when the original is.
   */
  duplicate(rel: string, name?: string): string {
    const nb = this.read(rel);
    let to: string;
    if (name !== undefined) to = this.newNotebookPath(name);
    else {
      const stem = rel.replace(/\.ipynb$/i, '');
      to = '';
      for (let i = 1; i < 1000 && !to; i++) {
        try {
          to = this.newNotebookPath(`${stem} copy${i > 1 ? ` ${i}` : ''}.ipynb`);
        } catch (e) {
          if (!/exists already/.test((e as Error).message)) throw e;
        }
      }
      if (!to) throw new Error(`no free name for a copy of ${rel}`);
    }
    const copy = structuredClone(nb);
    const head = copy.cells.find((c) => c.cell_type === 'markdown');
    if (head) {
      const src = Array.isArray(head.source) ? head.source.join('') : head.source;
      head.source = src.replace(/^(#+\s+)(.+)$/m, (_m, h: string, t: string) => `${h}${t.trim()} (copy)`);
    }
    const trusted = this.trust.isTrusted(nb);
    this.writeNew(to, copy);
    if (trusted) this.trust.trust(copy);
    return to;
  }

  /**
   * Renames (moves) a notebook inside the workspace. Trust rests on its code, so it
   * keeps its trust; the host moves its runs along (Tracker.renameNotebook).
   */
  rename(from: string, name: string): string {
    const abs = this.resolve(from);
    if (!existsSync(abs)) throw new Error(`no notebook ${from}`);
    if (!/\.ipynb$/i.test(from)) throw new Error(`${from} is not a notebook`);
    const trimmed = name.trim();
    // the same name in another case is a rename too (on a case-insensitive disk as well)
    const sameIgnoringCase = (trimmed.endsWith('.ipynb') ? trimmed : `${trimmed}.ipynb`).toLowerCase() === from.toLowerCase();
    if (sameIgnoringCase && (trimmed.endsWith('.ipynb') ? trimmed : `${trimmed}.ipynb`) === from) throw new Error(`${from} already has that name`);
    const to = sameIgnoringCase ? this.checkedCaseRename(trimmed) : this.newNotebookPath(trimmed);
    const toAbs = this.resolve(to);
    mkdirSync(dirname(toAbs), { recursive: true });
    if (sameIgnoringCase) renameSync(abs, toAbs);
    else {
      // link + unlink: never replaces a file that appeared under the new name meanwhile
      try {
        linkSync(abs, toAbs);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new Error(`a notebook named ${to} exists already: choose another name`);
        if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw new Error(`${from} was not renamed: ${(e as Error).message}`);
        renameSync(abs, toAbs); // a file system without hard links
        return to;
      }
      rmSync(abs);
    }
    return to;
  }

  private checkedCaseRename(name: string): string {
    const rel = name.endsWith('.ipynb') ? name : `${name}.ipynb`;
    if (/[<>:"|?*\u0000-\u001f]/.test(rel) || rel.split('/').some((p) => p === '..' || p.startsWith('.'))) return this.newNotebookPath(name);
    this.resolve(rel);
    return rel;
  }

  /**
   * Deletes a notebook by moving it to .latentlab/trash/<time>-<name>, where it can be
   * taken back (its runs stay in the runs list). Returns the trash path (workspace-relative).
   */
  remove(rel: string): string {
    const abs = this.resolve(rel);
    if (!/\.ipynb$/i.test(rel)) throw new Error(`${rel} is not a notebook`);
    if (!existsSync(abs)) throw new Error(`no notebook ${rel}`);
    if (lstatSync(abs).isSymbolicLink()) {
      rmSync(abs); // a link: only the link goes
      return '';
    }
    const trash = join(this.dataDir, 'trash');
    mkdirSync(trash, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const target = join(trash, `${stamp}-${rel.split('/').join('__')}`);
    renameSync(abs, target);
    return relative(this.dir, target).split(sep).join('/');
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
  /** its notebook metadata (a `latentlab.family` there places it in the sidebar) */
  metadata?: Record<string, unknown>;
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
  return { title, code: codeCells(nb), metadata: nb.metadata };
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
