// The declaration is the API, and the shipped notebooks agree with it: each notebook's
// code cells are checked as the editor checks them (one program in cell order, the rules
// of src/shared/notebook-program.ts, api.d.ts + cell-globals.d.ts), and no notebook has a
// single diagnostic of any code. A real mistake is reported in its own cell, at its line.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNotebook, joinCells, lineColumn, type CellDiagnostic, type CellSource } from '../../../../src/shared/notebook-program';
import { checkNotebookFile, nodeChecker } from '../../../helpers/notebook-checker';
import { root } from '../../../helpers/paths';

const dir = join(root, 'resources', 'notebooks');
const all = (cells: Map<string, CellDiagnostic[]>) => [...cells.values()].flat();
const check = (sources: string[]) => checkNotebook(sources.map((source, i) => ({ id: `c${i + 1}`, source })), nodeChecker);

describe('the shipped notebooks against the cell API declaration', () => {
  it('every notebook compiles with zero diagnostics under the editor rules', async () => {
    const files = readdirSync(dir).filter((n) => n.endsWith('.ipynb'));
    expect(files.length).toBeGreaterThanOrEqual(38);
    const found: string[] = [];
    for (const f of files) {
      const r = await checkNotebookFile(join(dir, f));
      expect(r.unchecked, f).toEqual([]);
      for (const d of all(r.cells)) found.push(`${f} cell ${d.cellId} ${d.startLine}:${d.startColumn} TS${d.code}: ${d.message.split('\n')[0]}`);
    }
    expect(found).toEqual([]);
  }, 240_000);
});

describe('the notebook program rules', () => {
  it('reports a misspelled property in the cell it is in, at its line and column', async () => {
    const r = await check([
      'const latentDim = 4;\nconst steps = 10;',
      "const data = lab.data.toy2d('moons');\nconst model = lab.models.vae({ latentDim });",
      '// train\nconst run = await lab.train(model, data, { steps });\nlab.show(run.metrcs);',
      'lab.show(run.steps);',
    ]);
    const ds = all(r.cells);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ cellId: 'c3', code: 2551, severity: 'error', startLine: 3, startColumn: 14, endLine: 3, endColumn: 20 });
    expect(ds[0].message).toContain("Property 'metrcs' does not exist on type 'Run'");
  });

  it('a later cell sees the names of earlier cells, and may declare them again', async () => {
    const r = await check(['const latentDim = 4;', 'const model = lab.models.vae({ latentDim });', "const model = lab.models.gan();\nconst latentDim = 'x';\nlab.show(model.criticKind, latentDim);"]);
    expect(all(r.cells)).toEqual([]);
  });

  it('a name no cell declares is an error; one a later cell declares is that cell’s global', async () => {
    const r = await check(['lab.show(later.toFixed(1), nowhere);', 'const later = 1;']);
    expect(all(r.cells).map((d) => [d.cellId, d.code, d.startColumn])).toEqual([['c1', 2304, 28]]);
    const typed = await check(['lab.show(later.toFixd(1));', 'const later = 1;']);
    expect(all(typed.cells).map((d) => [d.cellId, d.code])).toEqual([['c1', 2551]]);
  });

  it('has no DOM: a cell’s own `frames` is its own; top-level await and return are allowed', async () => {
    const r = await check(['const frames = [1, 2];', 'const n: number = frames.length;\nawait lab.views.chain(lab.models.rbm());\nif (n > 1) return;']);
    expect(all(r.cells)).toEqual([]);
    const dom = await check(['document.title;']);
    expect(all(dom.cells).map((d) => d.code)).toEqual([2584]);
  });

  it('a cell that does not parse shows its syntax error; the cells after it wait', async () => {
    const r = await check(['const a = 1;\nlab.show(a.toFixd(2));', 'const b = (1 + ;', 'lab.show(b.nope);']);
    expect(r.cells.get('c1')!.map((d) => d.code)).toEqual([2551]);
    expect(r.cells.get('c2')!.map((d) => [d.code, d.startLine, d.startColumn])).toEqual([[1109, 1, 16]]);
    expect(r.unchecked).toEqual(['c3']);
  });

  it('maps offsets to each cell’s own lines', () => {
    const cells: CellSource[] = [
      { id: 'a', source: 'x\ny' },
      { id: 'b', source: 'z' },
    ];
    const p = joinCells(cells);
    expect(p.text.slice(p.parts[0].start, p.parts[0].end)).toBe('x\ny');
    expect(p.text.slice(p.parts[1].start, p.parts[1].end)).toBe('z');
    expect(lineColumn('x\r\ny', 4)).toEqual({ line: 2, column: 2 });
  });
});
