// Command mode's state: the selection, deleted cells and their undo (several levels, each
// back where it stood, with its source, metadata and outputs), cell type changes, the
// cell operations the keys call, and the palette's command registry and filter.
import { beforeEach, describe, expect, it } from 'vitest';
import { useLab, UNDO_DEPTH } from '../../../src/renderer/src/store';
import { filterCommands, getCommand, listCommands, registerCommands, runCommand, type LabCommand } from '../../../src/renderer/src/commands';
import { deleteSelected, insertCell, runSelected, moveSelected, moveSelection, copySelected, pasteBelow, setSelectedType, undoDelete } from '../../../src/renderer/src/notebook/commandMode';
import type { CellModel } from '../../../src/renderer/src/notebook/nbformat';

const code = (id: string, source: string, extra: Partial<CellModel> = {}): CellModel => ({ id, type: 'code', source, metadata: {}, outputs: [], executionCount: null, ...extra });
const st = () => useLab.getState();
const ids = () => st().notebook!.cells.map((c) => c.id);

function open(cells: CellModel[], path = 'a.ipynb') {
  st().setNotebook(path, { nbformatMinor: 5, metadata: {}, cells });
}

beforeEach(() => {
  open([
    code('c0', 'const a = 1;'),
    code('c1', 'const b = 2;', { metadata: { tags: ['parameters'] }, outputs: [{ type: 'text', text: '2\n' }], executionCount: 4 }),
    code('c2', 'const c = 3;'),
    code('c3', 'const d = 4;'),
  ]);
});

describe('deleting and undoing cells', () => {
  it('brings deleted cells back newest first, each where it stood, as it was', () => {
    const before = st().notebook!.cells.find((c) => c.id === 'c1')!;
    st().deleteCell('c1');
    st().deleteCell('c3');
    st().deleteCell('c0');
    expect(ids()).toEqual(['c2']);
    expect(st().deleted.map((d) => d.cell.id)).toEqual(['c1', 'c3', 'c0']);

    expect(st().undoDelete()).toBe('c0');
    expect(ids()).toEqual(['c0', 'c2']);
    expect(st().undoDelete()).toBe('c3');
    expect(ids()).toEqual(['c0', 'c2', 'c3']);
    expect(st().undoDelete()).toBe('c1');
    expect(ids()).toEqual(['c0', 'c1', 'c2', 'c3']);
    // the same cell: source, tags, outputs and prompt
    expect(st().notebook!.cells[1]).toEqual(before);
    expect(st().selected).toBe('c1');
    expect(st().mode).toBe('command');
    // nothing left: undo is a no-op
    expect(st().undoDelete()).toBeNull();
    expect(ids()).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(st().notebook!.dirty).toBe(true);
  });

  it('moves the selection to the cell below the deleted one, or above for the last', () => {
    st().select('c1', 'command');
    st().deleteCell('c1');
    expect(st().selected).toBe('c2');
    st().select('c3', 'command');
    st().deleteCell('c3');
    expect(st().selected).toBe('c2');
    // deleting another cell leaves the selection alone
    st().deleteCell('c0');
    expect(st().selected).toBe('c2');
  });

  it('keeps the last UNDO_DEPTH deletions, and forgets them with the notebook', () => {
    const many = Array.from({ length: UNDO_DEPTH + 5 }, (_, i) => code(`x${i}`, `${i}`));
    open(many);
    for (const c of many.slice(0, -1)) st().deleteCell(c.id);
    expect(st().deleted).toHaveLength(UNDO_DEPTH);
    expect(st().deleted[0].cell.id).toBe('x4');
    open([code('other', '')], 'b.ipynb');
    expect(st().deleted).toEqual([]);
    expect(st().undoDelete()).toBeNull();
  });

  it('deleting the only cell leaves an empty one; undo puts the cell back above it', () => {
    open([code('only', 'x')]);
    st().deleteCell('only');
    expect(st().notebook!.cells).toHaveLength(1);
    expect(st().notebook!.cells[0].id).not.toBe('only');
    st().undoDelete();
    expect(ids()[0]).toBe('only');
  });

  it('a restored cell never shares an id with a live one', () => {
    const clone = code('c2', 'pasted');
    open([code('c0', ''), clone]);
    // a deleted cell whose id a live cell holds again
    useLab.setState({ deleted: [{ cell: { ...clone, status: null, executionId: null, editing: false, source: 'old' }, index: 0, path: 'a.ipynb' }] });
    const id = st().undoDelete();
    expect(id).not.toBe('c2');
    expect(new Set(ids()).size).toBe(3);
  });
});

describe('cell type', () => {
  it('M/Y change the type, keep the source, drop outputs and prompt', () => {
    st().setCellType('c1', 'markdown');
    const md = st().notebook!.cells[1];
    expect(md).toMatchObject({ id: 'c1', type: 'markdown', source: 'const b = 2;', outputs: [], executionCount: null, editing: false });
    st().setCellType('c1', 'code');
    expect(st().notebook!.cells[1]).toMatchObject({ type: 'code', source: 'const b = 2;' });
    const cells = st().notebook!.cells;
    st().setCellType('c1', 'code'); // same type: nothing changes
    expect(st().notebook!.cells).toBe(cells);
  });
});

describe('command mode operations', () => {
  it('A and B insert code cells above and below the selection and select them', () => {
    st().select('c0', 'command');
    const below = insertCell('below')!;
    expect(ids()).toEqual(['c0', below, 'c1', 'c2', 'c3']);
    expect(st().selected).toBe(below);
    st().select('c0', 'command');
    const above = insertCell('above')!;
    expect(ids()).toEqual([above, 'c0', below, 'c1', 'c2', 'c3']);
    expect(st().notebook!.cells[0].type).toBe('code');
    expect(st().focus).toMatchObject({ cellId: above, at: 'cell' });
  });

  it('J/K stop at the ends; moving a cell keeps it selected', () => {
    st().select('c0', 'command');
    moveSelection(-1);
    expect(st().selected).toBe('c0');
    moveSelection(1);
    moveSelection(1);
    expect(st().selected).toBe('c2');
    moveSelected(-1);
    expect(ids()).toEqual(['c0', 'c2', 'c1', 'c3']);
    expect(st().selected).toBe('c2');
  });

  it('Shift+Enter on a Markdown cell renders it and selects the next cell', () => {
    open([{ ...code('md', '# T'), type: 'markdown' }, code('c0', '')]);
    st().setEditing('md', true);
    st().select('md', 'command');
    runSelected('advance');
    expect(st().notebook!.cells[0].editing).toBe(false);
    expect(st().selected).toBe('c0');
    // past the last cell: a new code cell, edited
    runSelected('advance');
    expect(ids()).toHaveLength(3);
    expect(st().selected).toBe(ids()[2]);
    expect(st().mode).toBe('edit');
  });

  it('D D, Z, M, copy and paste act on the selected cell', () => {
    st().select('c2', 'command');
    deleteSelected();
    expect(ids()).toEqual(['c0', 'c1', 'c3']);
    expect(st().selected).toBe('c3');
    undoDelete();
    expect(ids()).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(st().selected).toBe('c2');
    setSelectedType('markdown');
    expect(st().notebook!.cells[2].type).toBe('markdown');
    copySelected(false);
    pasteBelow();
    const pasted = st().notebook!.cells[3];
    expect(pasted).toMatchObject({ type: 'markdown', source: 'const c = 3;', editing: false });
    expect(pasted.id).not.toBe('c2');
  });
});

describe('command registry', () => {
  const cmd = (id: string, label: string, extra: Partial<LabCommand> = {}): LabCommand => ({ id, label, run: () => {}, ...extra });

  it('lists the notebook commands with their keys', () => {
    const byId = new Map(listCommands().map((c) => [c.id, c]));
    expect(byId.get('cell.insertAbove')?.keys).toBe('A');
    expect(byId.get('cell.delete')?.keys).toBe('D D');
    expect(byId.get('cell.undoDelete')?.keys).toBe('Z');
    for (const id of ['cell.runAdvance', 'notebook.runAll', 'kernel.interrupt', 'kernel.restart', 'notebook.save', 'cell.toMarkdown', 'cell.toCode', 'cell.moveUp', 'cell.moveDown']) {
      expect(byId.has(id)).toBe(true);
    }
  });

  it('registers, replaces and removes; a disabled command does not run', () => {
    let ran = 0;
    const off = registerCommands([cmd('t.one', 'Test one', { run: () => void ran++ }), cmd('t.off', 'Test off', { enabled: () => false, run: () => void ran++ })]);
    expect(runCommand('t.one')).toBe(true);
    expect(runCommand('t.off')).toBe(false);
    expect(ran).toBe(1);
    off();
    expect(getCommand('t.one')).toBeUndefined();
    expect(runCommand('t.one')).toBe(false);
  });

  it('filters by every word in any order, labels that start with the query first', () => {
    const cs = [cmd('a', 'Run cell and insert below'), cmd('b', 'Insert code cell below', { keys: 'B' }), cmd('c', 'Delete cell', { keys: 'D D', group: 'Cell' }), cmd('d', 'Restart the kernel')];
    expect(filterCommands(cs, '').map((c) => c.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(filterCommands(cs, 'insert below').map((c) => c.id)).toEqual(['b', 'a']);
    expect(filterCommands(cs, 'BELOW insert').map((c) => c.id)).toEqual(['a', 'b']); // neither label starts with 'below': registry order
    expect(filterCommands(cs, 'kernel').map((c) => c.id)).toEqual(['d']);
    expect(filterCommands(cs, 'zzz')).toEqual([]);
  });
});
