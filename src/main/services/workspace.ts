// A workspace is a folder of notebooks (*.ipynb, nbformat 4) plus
// .latentlab/ (tracking.sqlite and artifacts/).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Notebook, type NotebookEntry } from '../../shared/domain';

const SKIP = new Set(['.latentlab', 'node_modules', '.git', '.ipynb_checkpoints']);

export class Workspace {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
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
    if (examples && existsSync(examples) && this.list().length === 0) {
      for (const f of readdirSync(examples)) if (f.endsWith('.ipynb')) copyFileSync(join(examples, f), join(this.dir, f));
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
          out.push({ path: rel, title: this.titleOf(abs) ?? name.replace(/\.ipynb$/, '') });
        }
      }
    };
    walk(this.dir, 0);
    return out;
  }

  /** The first Markdown heading of a notebook, if it has one. */
  private titleOf(abs: string): string | null {
    try {
      const nb = JSON.parse(readFileSync(abs, 'utf8')) as { cells?: { cell_type?: string; source?: string | string[] }[] };
      for (const c of nb.cells ?? []) {
        if (c.cell_type !== 'markdown') continue;
        const src = Array.isArray(c.source) ? c.source.join('') : (c.source ?? '');
        const m = /^#+\s+(.+)$/m.exec(src);
        if (m) return m[1].trim();
      }
    } catch {
      /* an unreadable notebook is still listed by its file name */
    }
    return null;
  }

  read(rel: string): Notebook {
    const abs = this.resolve(rel);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(abs, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read ${rel}: ${(e as Error).message}`);
    }
    const nb = Notebook.safeParse(raw);
    if (!nb.success) throw new Error(`${rel} is not an nbformat 4 notebook: ${nb.error.issues[0]?.message ?? ''}`);
    // nbformat 4.5 requires cell ids; older files get stable ones
    nb.data.cells.forEach((c, i) => {
      if (!c.id) c.id = `cell-${i + 1}`;
    });
    return nb.data;
  }

  /** Writes atomically (temp file + rename), so a crash never leaves half a notebook. */
  write(rel: string, nb: Notebook): void {
    if (!rel.endsWith('.ipynb')) throw new Error('notebooks must end in .ipynb');
    const abs = this.resolve(rel);
    const parsed = Notebook.parse(nb);
    const tmp = `${abs}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(parsed, null, 1) + '\n');
    renameSync(tmp, abs);
  }
}
