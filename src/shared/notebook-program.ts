// How a notebook's code is type-checked: the editor (Monaco's TypeScript worker) and the
// Node test (tests/unit/engine/lab/declaration.test.ts) both use these rules, so the test
// sees exactly the squiggles the editor shows.
//
// The code cells are ONE program, in cell order, as the kernel runs them:
//  - a module (`export {}` first), so top-level `await` is allowed and nothing clashes
//    with other files;
//  - each cell is a block nested in the previous one's, so a later cell sees every name
//    an earlier cell declared, and may declare a name again (it shadows the earlier one,
//    as re-running a cell replaces a value in the kernel);
//  - a cell that does not parse on its own shows only its syntax errors; the cells after
//    it are not checked until it parses (their markers stay as they were);
//  - every code cell is also in the checker's program as a global script of its own (the
//    editor's cell models, which give completion and hover the other cells' names): a name
//    no earlier cell declares, but some cell does, falls back to that cell's declaration, as
//    the kernel's globals keep a value once its cell has run;
//  - ES2023 library only (no DOM: `frames` or `name` are the cell's own), the `lab` API's
//    declaration (api.d.ts) and the kernel's globals (cell-globals.d.ts);
//  - strict TypeScript, less the diagnostics in IGNORED_DIAGNOSTICS.
// No TypeScript import here: the caller brings a checker (the worker, or `typescript`).

/**
 * Compiler options of the notebook program, as plain values (both TypeScript's API and
 * Monaco's worker take the numbers of TypeScript's enums).
 */
export const NOTEBOOK_COMPILER_OPTIONS = {
  target: 9, // ES2022
  module: 99, // ESNext: top-level await
  lib: ['lib.es2023.d.ts'], // no DOM: the kernel is not a browser
  types: [] as string[], // no @types/* (no Node globals the kernel does not give cells)
  strict: true,
  noEmit: true,
  allowNonTsExtensions: true,
  skipLibCheck: true,
} as const;

/** TypeScript diagnostics that are wrong for notebook code, with why. */
export const IGNORED_DIAGNOSTICS: readonly number[] = [
  1375, // 'await' at top level only in modules: the kernel allows top-level await in every cell
  1378, // top-level 'await' needs module/target options (same reason)
  1108, // a 'return' statement can only be used within a function body: the kernel wraps each cell in a function
];

/** The first line of the program: makes it a module. */
export const PROGRAM_HEADER = 'export {};\n';

export interface CellSource {
  id: string;
  source: string;
}

export interface ProgramPart {
  cellId: string;
  /** offset of the cell's first character in the program text */
  start: number;
  /** offset just after its last character */
  end: number;
}

export interface NotebookProgram {
  text: string;
  parts: ProgramPart[];
}

/** A diagnostic as TypeScript (or Monaco's worker) gives it, offsets in the checked text. */
export interface RawDiagnostic {
  start?: number;
  length?: number;
  code: number;
  /** 0 warning, 1 error, 2 suggestion, 3 message */
  category: number;
  messageText: string | MessageChain;
}

export interface MessageChain {
  messageText: string;
  next?: MessageChain[];
}

/** A diagnostic placed in a cell: 1-based lines and columns of the cell's own text. */
export interface CellDiagnostic {
  cellId: string;
  code: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

/** What checks the text: TypeScript in Node, Monaco's worker in the editor. */
export interface ProgramChecker {
  /** syntax errors of a text parsed alone (a cell behind PROGRAM_HEADER; offsets in text) */
  syntax(text: string): Promise<RawDiagnostic[]>;
  /**
   * syntactic and semantic diagnostics of the program text (offsets in text), checked
   * beside every code cell as a global script (the editor's cell models)
   */
  program(text: string, cells: readonly CellSource[]): Promise<RawDiagnostic[]>;
}

export interface NotebookCheck {
  /** the diagnostics of every checked cell (an empty list: checked, no problem) */
  cells: Map<string, CellDiagnostic[]>;
  /** cells after one that does not parse: not checked this time */
  unchecked: string[];
  program: NotebookProgram;
}

/** Joins code cells into the program text: each cell a block nested in the previous cell's. */
export function joinCells(cells: readonly CellSource[]): NotebookProgram {
  let text = PROGRAM_HEADER;
  const parts: ProgramPart[] = [];
  for (const c of cells) {
    text += '{\n';
    parts.push({ cellId: c.id, start: text.length, end: text.length + c.source.length });
    text += c.source + '\n';
  }
  text += '}'.repeat(cells.length) + '\n';
  return { text, parts };
}

export function flattenMessage(m: string | MessageChain, depth = 0): string {
  if (typeof m === 'string') return m;
  let s = (depth > 0 ? '\n' + '  '.repeat(depth) : '') + m.messageText;
  for (const n of m.next ?? []) s += flattenMessage(n, depth + 1);
  return s;
}

/** 1-based line and column of an offset in text ('\n' ends a line; a '\r' before it belongs to the line end). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = end - lineStart + 1;
  // an offset on a '\r\n' line end is shown at the end of the line
  if (end > lineStart && text.charCodeAt(end - 1) === 13 && text.charCodeAt(end) === 10) column--;
  return { line, column };
}

function severity(category: number): CellDiagnostic['severity'] {
  return category === 1 ? 'error' : category === 0 ? 'warning' : 'info';
}

/** Places one diagnostic of `source` (offsets in it) in the cell. */
export function inCell(cellId: string, source: string, d: RawDiagnostic, startOffset = d.start ?? 0, length = d.length ?? 0): CellDiagnostic {
  const a = Math.min(Math.max(startOffset, 0), source.length);
  const b = Math.min(Math.max(a + Math.max(length, 0), a), source.length);
  const s = lineColumn(source, a);
  const e = lineColumn(source, b);
  return { cellId, code: d.code, severity: severity(d.category), message: flattenMessage(d.messageText), startLine: s.line, startColumn: s.column, endLine: e.line, endColumn: e.column };
}

/**
 * The cell a program diagnostic belongs to, and the diagnostic in that cell's coordinates:
 * the cell its start falls in (one in the scaffolding between cells goes to the cell
 * before it); a range running past the cell's end is cut there.
 */
export function mapProgramDiagnostic(program: NotebookProgram, cells: ReadonlyMap<string, string>, d: RawDiagnostic): CellDiagnostic | null {
  if (program.parts.length === 0) return null;
  const start = d.start ?? 0;
  let part: ProgramPart | null = null;
  for (const p of program.parts) {
    if (p.start <= start) part = p;
    else break;
  }
  if (!part) part = program.parts[0]; // in the header: the first cell
  const source = cells.get(part.cellId) ?? '';
  const local = Math.min(Math.max(start - part.start, 0), source.length);
  const end = Math.min(start + (d.length ?? 0), part.end);
  return inCell(part.cellId, source, d, local, Math.max(end - Math.max(start, part.start), 0));
}

export const isReported = (d: RawDiagnostic): boolean => !IGNORED_DIAGNOSTICS.includes(d.code) && (d.category === 0 || d.category === 1);

/** Checks a notebook's code cells (in order) as one program with the rules above. */
export async function checkNotebook(cells: readonly CellSource[], checker: ProgramChecker): Promise<NotebookCheck> {
  const out = new Map<string, CellDiagnostic[]>();
  const unchecked: string[] = [];
  const sound: CellSource[] = [];
  let broken = false;
  for (const c of cells) {
    if (broken) {
      unchecked.push(c.id);
      continue;
    }
    // parsed alone, as a module as in the program (PROGRAM_HEADER before it)
    const syntax = (await checker.syntax(PROGRAM_HEADER + c.source)).filter(isReported);
    if (syntax.length > 0) {
      broken = true;
      out.set(c.id, syntax.map((d) => inCell(c.id, c.source, d, (d.start ?? 0) - PROGRAM_HEADER.length)));
    } else {
      sound.push(c);
      out.set(c.id, []);
    }
  }
  const program = joinCells(sound);
  if (sound.length > 0) {
    const sources = new Map(sound.map((c) => [c.id, c.source]));
    for (const d of (await checker.program(program.text, cells)).filter(isReported)) {
      const m = mapProgramDiagnostic(program, sources, d);
      if (m) out.get(m.cellId)!.push(m);
    }
  }
  return { cells: out, unchecked, program };
}

/** The code cells of a notebook file (nbformat 4 JSON), with their ids (index when absent). */
export function notebookCodeCells(nb: { cells: { id?: string; cell_type: string; source: string | string[] }[] }): CellSource[] {
  return nb.cells
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.cell_type === 'code')
    .map(({ c, i }) => ({ id: c.id ?? `cell-${i}`, source: Array.isArray(c.source) ? c.source.join('') : c.source }));
}
