// The declaration is the API: what the shipped notebooks call and read of `lab` is
// declared. Each notebook's code cells are compiled as one program against api.d.ts (as
// the editor sees them), and no property or member may be missing from the declaration.
// (Stricter rules for notebook code itself, implicit any and the like, are the editor's.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { root } from '../../../helpers/paths';

const NOT_DECLARED = new Set([
  2339, // property does not exist on type
  2551, // property does not exist; did you mean
  2353, // object literal may only specify known properties (an option the declaration lacks)
  2554, // expected n arguments
  2305, // module has no exported member
]);

describe('the cell API declaration', () => {
  it('declares everything the shipped notebooks use of lab', () => {
    const dir = join(root, 'resources', 'notebooks');
    const files = new Map<string, string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ipynb'))) {
      const nb = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
      const code = nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
      files.set(`/notebooks/${f}.ts`, `export {};\n(async () => {\n${code}\n})();\n`);
    }
    const api = join(root, 'src', 'engine', 'lab', 'api.d.ts');
    const globals = join(root, 'src', 'engine', 'lab', 'cell-globals.d.ts');
    const options: ts.CompilerOptions = { strict: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2023.d.ts'], types: [], noEmit: true, skipLibCheck: true };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (f) => files.get(f) ?? read(f);
    const exists = host.fileExists.bind(host);
    host.fileExists = (f) => files.has(f) || exists(f);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, v) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, v) : getSourceFile(f, v));
    const program = ts.createProgram([api, globals, ...files.keys()], options, host);
    const missing = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => NOT_DECLARED.has(d.code) && d.file && files.has(d.file.fileName))
      .map((d) => `${d.file!.fileName.slice('/notebooks/'.length, -3)}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    expect(files.size).toBeGreaterThanOrEqual(38);
    expect(missing).toEqual([]);
  }, 120_000);
});
