// Jupyter's hands: the cell operations of command mode, its keys, and the notebook's
// commands in the palette's registry (commands.ts).
//
// Command mode: Esc in an editor leaves it with the cell selected (NotebookView shows
// the selection); the keys below then act on the selected cell. They never fire while
// the keyboard is in an editor, an input or a dialog, or outside the notebook.
import { useEffect } from 'react';
import { EXPORT_CHOICES, EXPORT_CHOICE_NAMES } from '../../../shared/exports';
import {
  deleteNotebook, deleteRun, duplicateNotebook, exportCurrent, focusNotebookSearch, interrupt, newNotebook, openCompare, refreshNotebooks,
  refreshRuns, renameNotebook, renameRun, restartKernel, runAll, runCell, saveNotebook,
} from '../actions';
import { registerCommands, runCommand, type LabCommand } from '../commands';
import { useLab, type CellState } from '../store';
import type { CellType } from './nbformat';

const st = () => useLab.getState();
const cells = (): CellState[] => st().notebook?.cells ?? [];

/** The selected cell: the store's selection while it exists, else the first cell. */
export function selectedCell(): CellState | undefined {
  const all = cells();
  return all.find((c) => c.id === st().selected) ?? all[0];
}

/** Selects a cell in command mode: the keyboard goes to the cell, not its editor. */
export function selectCell(cellId: string): void {
  st().select(cellId, 'command');
  st().requestFocus(cellId, 'cell');
}

/** Command mode on the selected cell (Esc from the palette; the editors map Esc themselves). */
export function enterCommandMode(): void {
  const c = selectedCell();
  if (c) selectCell(c.id);
}

/** Edit mode: the caret in the selected cell (a Markdown cell shows its source). */
export function editSelected(): void {
  const c = selectedCell();
  if (!c) return;
  if (c.type === 'markdown') st().setEditing(c.id, true);
  st().select(c.id, 'edit');
  st().requestFocus(c.id);
}

/** Inserts a code cell above or below the selected one and selects it (command mode stays). */
export function insertCell(where: 'above' | 'below', type: CellType = 'code'): string | undefined {
  const c = selectedCell();
  if (!st().notebook) return undefined;
  const id = st().addCell(c?.id ?? null, type);
  if (where === 'above' && c) st().moveCell(id, -1);
  if (type === 'markdown') st().setEditing(id, false);
  selectCell(id);
  return id;
}

export function deleteSelected(): void {
  const c = selectedCell();
  if (!c) return;
  st().deleteCell(c.id);
  const next = st().selected ?? cells()[0]?.id;
  if (next) selectCell(next);
}

export function undoDelete(): void {
  const id = st().undoDelete();
  if (id) selectCell(id);
}

export function setSelectedType(type: CellType): void {
  const c = selectedCell();
  if (!c) return;
  st().setCellType(c.id, type);
  selectCell(c.id);
}

export function moveSelection(delta: -1 | 1): void {
  const all = cells();
  const c = selectedCell();
  if (!c) return;
  const next = all[Math.min(all.length - 1, Math.max(0, all.findIndex((x) => x.id === c.id) + delta))];
  selectCell(next.id);
}

export function moveSelected(delta: -1 | 1): void {
  const c = selectedCell();
  if (!c) return;
  st().moveCell(c.id, delta);
  selectCell(c.id);
}

/**
 * Runs the selected cell (a Markdown cell renders). advance: the selection moves to the
 * next cell; past the last one a new code cell is added and edited, as Jupyter does.
 * insert: a new code cell below is added and edited.
 */
export function runSelected(then: 'stay' | 'advance' | 'insert'): void {
  const c = selectedCell();
  if (!c) return;
  void runCell(c.id);
  if (then === 'stay') return;
  // by id: running replaced the cell's object in the store
  const all = cells();
  const next = all[all.findIndex((x) => x.id === c.id) + 1];
  if (then === 'advance' && next) {
    selectCell(next.id);
    return;
  }
  const id = st().addCell(c.id, 'code');
  st().select(id, 'edit');
  st().requestFocus(id);
}

/** A cell copied with C (or cut with X), pasted below the selection with V. */
let clipboard: { type: CellType; source: string } | null = null;

export function copySelected(cut: boolean): void {
  const c = selectedCell();
  if (!c) return;
  clipboard = { type: c.type, source: c.source };
  if (cut) deleteSelected();
}

export function pasteBelow(): void {
  const c = selectedCell();
  if (!clipboard || !st().notebook) return;
  const id = st().addCell(c?.id ?? null, clipboard.type);
  st().updateSource(id, clipboard.source);
  if (clipboard.type === 'markdown') st().setEditing(id, false);
  selectCell(id);
}

const MOD = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? 'Cmd' : 'Ctrl';
const hasCells = () => cells().length > 0;

/** The notebook's commands: what the palette lists and the keys help shows. */
export const notebookCommands: LabCommand[] = [
  { id: 'cell.runAdvance', group: 'Cell', label: 'Run cell and select below', keys: 'Shift+Enter', enabled: hasCells, run: () => runSelected('advance') },
  { id: 'cell.run', group: 'Cell', label: 'Run cell', keys: `${MOD}+Enter`, enabled: hasCells, run: () => runSelected('stay') },
  { id: 'cell.runInsert', group: 'Cell', label: 'Run cell and insert below', keys: 'Alt+Enter', enabled: hasCells, run: () => runSelected('insert') },
  { id: 'cell.edit', group: 'Cell', label: 'Edit cell (edit mode)', keys: 'Enter', enabled: hasCells, run: editSelected },
  { id: 'cell.commandMode', group: 'Cell', label: 'Leave the editor (command mode)', keys: 'Esc', enabled: hasCells, run: enterCommandMode },
  { id: 'cell.insertAbove', group: 'Cell', label: 'Insert code cell above', keys: 'A', enabled: hasCells, run: () => void insertCell('above') },
  { id: 'cell.insertBelow', group: 'Cell', label: 'Insert code cell below', keys: 'B', enabled: hasCells, run: () => void insertCell('below') },
  { id: 'cell.insertMarkdownBelow', group: 'Cell', label: 'Insert Markdown cell below', enabled: hasCells, run: () => void insertCell('below', 'markdown') },
  { id: 'cell.delete', group: 'Cell', label: 'Delete cell', keys: 'D D', enabled: hasCells, run: deleteSelected },
  { id: 'cell.undoDelete', group: 'Cell', label: 'Undo cell deletion', keys: 'Z', enabled: () => st().deleted.length > 0, run: undoDelete },
  { id: 'cell.toMarkdown', group: 'Cell', label: 'Change cell to Markdown', keys: 'M', enabled: hasCells, run: () => setSelectedType('markdown') },
  { id: 'cell.toCode', group: 'Cell', label: 'Change cell to code', keys: 'Y', enabled: hasCells, run: () => setSelectedType('code') },
  { id: 'cell.selectAbove', group: 'Cell', label: 'Select cell above', keys: 'K / ↑', enabled: hasCells, run: () => moveSelection(-1) },
  { id: 'cell.selectBelow', group: 'Cell', label: 'Select cell below', keys: 'J / ↓', enabled: hasCells, run: () => moveSelection(1) },
  { id: 'cell.moveUp', group: 'Cell', label: 'Move cell up', keys: `${MOD}+Shift+↑`, enabled: hasCells, run: () => moveSelected(-1) },
  { id: 'cell.moveDown', group: 'Cell', label: 'Move cell down', keys: `${MOD}+Shift+↓`, enabled: hasCells, run: () => moveSelected(1) },
  { id: 'cell.copy', group: 'Cell', label: 'Copy cell', keys: 'C', enabled: hasCells, run: () => copySelected(false) },
  { id: 'cell.cut', group: 'Cell', label: 'Cut cell', keys: 'X', enabled: hasCells, run: () => copySelected(true) },
  { id: 'cell.paste', group: 'Cell', label: 'Paste cell below', keys: 'V', enabled: () => clipboard !== null && hasCells(), run: pasteBelow },
  { id: 'notebook.runAll', group: 'Notebook', label: 'Run all cells', enabled: () => !!st().notebook, run: runAll },
  { id: 'notebook.save', group: 'Notebook', label: 'Save notebook', keys: `${MOD}+S`, enabled: () => !!st().notebook && !st().notebook?.readOnly, run: () => void saveNotebook() },
  { id: 'notebook.refreshList', group: 'Notebook', label: 'Reload the notebook list', run: refreshNotebooks },
  { id: 'notebook.new', group: 'Notebook', label: 'New notebook…', run: newNotebook },
  { id: 'notebook.duplicate', group: 'Notebook', label: 'Duplicate this notebook', enabled: () => !!st().notebook, run: () => duplicateNotebook(st().notebook!.path) },
  { id: 'notebook.rename', group: 'Notebook', label: 'Rename this notebook…', enabled: () => !!st().notebook, run: () => renameNotebook(st().notebook!.path) },
  { id: 'notebook.delete', group: 'Notebook', label: 'Delete this notebook…', enabled: () => !!st().notebook, run: () => deleteNotebook(st().notebook!.path) },
  { id: 'notebook.search', group: 'Notebook', label: 'Search the notebooks', keys: '/', run: focusNotebookSearch },
  { id: 'kernel.interrupt', group: 'Kernel', label: 'Interrupt the kernel (stop the running cell)', keys: 'I I', run: interrupt },
  // the top bar's Restart action
  { id: 'kernel.restart', group: 'Kernel', label: "Restart this notebook's kernel (asks first; clears its variables)", run: () => restartKernel() },
  { id: 'runs.refresh', group: 'Runs', label: 'Reload the runs list', run: refreshRuns },
  { id: 'runs.rename', group: 'Runs', label: 'Rename this run…', enabled: () => st().view.kind === 'run', run: () => { const v = st().view; if (v.kind === 'run') return renameRun(v.runId); } },
  { id: 'runs.delete', group: 'Runs', label: 'Delete this run…', enabled: () => st().view.kind === 'run', run: () => { const v = st().view; if (v.kind === 'run') return deleteRun(v.runId); } },
  { id: 'runs.compare', group: 'Runs', label: 'Compare the ticked runs', enabled: () => st().compareSel.length >= 2, run: () => openCompare(st().compareSel) },
  ...EXPORT_CHOICE_NAMES.map(
    (choice): LabCommand => ({
      id: `export.${choice}`,
      group: 'Export',
      label: `Export ${EXPORT_CHOICES[choice].menu.replace('…', '')} of the runs on screen`,
      keys: EXPORT_CHOICES[choice].accelerator ? `${MOD}+Shift+E` : undefined,
      enabled: () => st().view.kind !== 'notebook',
      run: () => exportCurrent(choice),
    }),
  ),
];
registerCommands(notebookCommands);

/** The keyboard is somewhere keys type text or belong to a dialog: command keys stay out. */
export function isTypingTarget(el: EventTarget | null): boolean {
  if (!(el instanceof Element)) return false;
  return !!el.closest('input, textarea, select, [contenteditable="true"], [contenteditable=""], .monaco-editor, [role="dialog"]');
}

let pending: { key: string; at: number } | null = null;
/** true on the second press of a two-key chord (D D, I I) within a second */
function chord(key: string): boolean {
  const now = Date.now();
  const hit = pending !== null && pending.key === key && now - pending.at < 1000;
  pending = hit ? null : { key, at: now };
  return hit;
}

/** One keydown in command mode; true when it was a command key (its default is then prevented). */
export function handleCommandKey(e: KeyboardEvent): boolean {
  const s = st();
  if (e.defaultPrevented || e.isComposing || !s.notebook || s.view.kind !== 'notebook' || s.mode !== 'command') return false;
  const target = e.target;
  if (isTypingTarget(target)) return false;
  // only when the keyboard is in the notebook (or nowhere): not in the sidebar, top bar or runs panel
  if (target instanceof Element && target !== document.body && !target.closest('[data-testid="notebook"]')) return false;
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (key !== 'd' && key !== 'i') pending = null;
  if (key === 'Enter') {
    if (e.shiftKey && !mod && !e.altKey) runSelected('advance');
    else if (mod && !e.shiftKey && !e.altKey) runSelected('stay');
    else if (e.altKey && !mod && !e.shiftKey) runSelected('insert');
    else if (!e.shiftKey && !mod && !e.altKey) {
      // Enter on a focused button or link clicks it
      if (target instanceof Element && target.closest('button, a[href]')) return false;
      editSelected();
    } else return false;
    return true;
  }
  if ((key === 'ArrowUp' || key === 'ArrowDown') && !e.altKey) {
    const delta = key === 'ArrowUp' ? -1 : 1;
    if (mod && e.shiftKey) moveSelected(delta);
    else if (!mod && !e.shiftKey) moveSelection(delta);
    else return false;
    return true;
  }
  if (mod || e.altKey || e.shiftKey) return false;
  switch (key) {
    case 'a':
      insertCell('above');
      return true;
    case 'b':
      insertCell('below');
      return true;
    case 'd':
      if (chord('d')) deleteSelected();
      return true;
    case 'i':
      if (chord('i')) void interrupt();
      return true;
    case 'z':
      undoDelete();
      return true;
    case 'm':
      setSelectedType('markdown');
      return true;
    case 'y':
      setSelectedType('code');
      return true;
    case 'k':
      moveSelection(-1);
      return true;
    case 'j':
      moveSelection(1);
      return true;
    case 'c':
      copySelected(false);
      return true;
    case 'x':
      copySelected(true);
      return true;
    case 'v':
      pasteBelow();
      return true;
    case 'h':
      return runCommand('help.keys');
    default:
      return false;
  }
}

/** The window's command mode keys, for as long as the app is mounted. */
export function useCommandModeKeys(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (handleCommandKey(e)) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
