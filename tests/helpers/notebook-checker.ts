// The editor's notebook check (src/shared/notebook-program.ts) run with Node's TypeScript
// instead of Monaco's worker: the same program text, options, globals and ignored codes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { NOTEBOOK_COMPILER_OPTIONS, checkNotebook, notebookCodeCells, type CellSource, type NotebookCheck, type ProgramChecker, type RawDiagnostic } from '../../src/shared/notebook-program';
import { root } from './paths';

const API = join(root, 'src', 'engine', 'lab', 'api.d.ts');
const GLOBALS = join(root, 'src', 'engine', 'lab', 'cell-globals.d.ts');
const PROGRAM = '/notebook/program.ts';

const options = NOTEBOOK_COMPILER_OPTIONS as unknown as ts.CompilerOptions;
const host = ts.createCompilerHost(options);
const files = new Map<string, string>();
const libCache = new Map<string, ts.SourceFile | undefined>();
const getSourceFile = host.getSourceFile.bind(host);
host.getSourceFile = (f, v) => {
  const text = files.get(f);
  if (text !== undefined) return ts.createSourceFile(f, text, v, true);
  if (!libCache.has(f)) libCache.set(f, getSourceFile(f, v));
  return libCache.get(f);
};
const read = host.readFile.bind(host);
host.readFile = (f) => files.get(f) ?? read(f);
const exists = host.fileExists.bind(host);
host.fileExists = (f) => files.has(f) || exists(f);
let old: ts.Program | undefined;

export const nodeChecker: ProgramChecker = {
  async syntax(text: string): Promise<RawDiagnostic[]> {
    const sf = ts.createSourceFile('/notebook/cell.ts', text, ts.ScriptTarget.ES2022, true);
    files.set(sf.fileName, text);
    const program = ts.createProgram([sf.fileName], { ...options, noLib: true }, host);
    return program.getSyntacticDiagnostics(program.getSourceFile(sf.fileName)).map(raw);
  },
  async program(text: string, cells: readonly CellSource[]): Promise<RawDiagnostic[]> {
    files.set(PROGRAM, text);
    // the cells as global scripts, as the editor's cell models are in Monaco's worker
    for (const f of [...files.keys()]) if (f.startsWith('/notebook/cell/')) files.delete(f);
    const scripts = cells.map((c, i) => {
      const name = `/notebook/cell/${i}.ts`;
      files.set(name, c.source);
      return name;
    });
    const program = ts.createProgram([API, GLOBALS, PROGRAM, ...scripts], options, host, old);
    old = program;
    const sf = program.getSourceFile(PROGRAM)!;
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(raw);
  },
};

function raw(d: ts.Diagnostic): RawDiagnostic {
  return { start: d.start, length: d.length, code: d.code, category: d.category, messageText: d.messageText as RawDiagnostic['messageText'] };
}

/** Checks a notebook file (nbformat JSON) as the editor does. */
export function checkNotebookFile(path: string): Promise<NotebookCheck> {
  return checkNotebook(notebookCodeCells(JSON.parse(readFileSync(path, 'utf8'))), nodeChecker);
}
