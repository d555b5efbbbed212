// The sidebar's notebooks: grouped by family (the kinds of the models), with a search
// box (title and file name; `/` focuses it, arrows and Enter open, Esc clears) and
// New / Duplicate / Rename / Delete. Shows that the list is loading until it is.
import { useEffect, useMemo, useRef, useState } from 'react';
import { FAMILIES } from '../../../shared/families';
import type { NotebookEntry } from '../../../shared/domain';
import { deleteNotebook, duplicateNotebook, newNotebook, openNotebook, refreshNotebooks, renameNotebook } from '../actions';
import { useLab } from '../store';
import { dialogOpen } from './Dialog';
import { CopyIcon, PencilIcon, PlusIcon, TrashIcon } from './icons';

const COLLAPSED_KEY = 'latentlab.collapsedFamilies';

/** whether an entry matches every word of the query (in its title or its path) */
export function matches(n: NotebookEntry, query: string): boolean {
  const hay = `${n.title}\n${n.path}`.toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}

/** the groups shown, in the families' order, each sorted by title */
function grouped(notebooks: NotebookEntry[], query: string): { id: string; label: string; items: NotebookEntry[] }[] {
  const shown = notebooks.filter((n) => matches(n, query));
  return FAMILIES.map((f) => ({
    id: f.id as string,
    label: f.label as string,
    items: shown.filter((n) => (n.family ?? 'mine') === f.id || (f.id === 'mine' && !FAMILIES.some((x) => x.id === n.family))).sort((a, b) => a.title.localeCompare(b.title)),
  })).filter((g) => g.items.length > 0);
}

function loadCollapsed(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem(COLLAPSED_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable || !!t.closest('.monaco-editor'));

export function NotebooksPanel() {
  const notebooks = useLab((s) => s.notebooks);
  const loaded = useLab((s) => s.notebooksLoaded);
  const open = useLab((s) => (s.view.kind === 'notebook' ? (s.notebook?.path ?? null) : null));
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const [collapsed, setCollapsed] = useState(loadCollapsed);
  const search = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);

  const groups = useMemo(() => grouped(notebooks, query), [notebooks, query]);
  const searching = query.trim() !== '';
  const flat = useMemo(() => groups.flatMap((g) => (searching || !collapsed.has(g.id) ? g.items : [])), [groups, searching, collapsed]);
  const activePath = searching ? flat[Math.min(active, flat.length - 1)]?.path : undefined;

  // `/` anywhere but in a text field or an editor: the search box
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target) && !dialogOpen()) {
        e.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (activePath) list.current?.querySelector(`[data-path="${CSS.escape(activePath)}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [activePath]);

  const toggle = (id: string) => {
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setCollapsed(next);
    localStorage.setItem(COLLAPSED_KEY, JSON.stringify([...next]));
  };

  const onSearchKey = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (flat.length === 0) return;
      setActive((a) => (e.key === 'ArrowDown' ? (a + 1) % flat.length : (a - 1 + flat.length) % flat.length));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const target = flat[Math.min(active, flat.length - 1)];
      if (target) void openNotebook(target.path);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      if (query) setQuery('');
      else search.current?.blur();
      setActive(0);
    }
  };

  return (
    <div className="side-section notebooks-section">
      <div className="side-title">
        Notebooks <span className="ll-count">{notebooks.length}</span>
        <span className="spacer" />
        <button className="ll-icon-btn" data-testid="notebook-new" title="New notebook" aria-label="New notebook" onClick={() => void newNotebook()}>
          <PlusIcon />
        </button>
        <button className="ll-icon-btn" title="Refresh notebooks" onClick={() => void refreshNotebooks()}>
          ⟳
        </button>
      </div>
      <div className="nb-search">
        <input
          ref={search}
          type="search"
          data-testid="notebook-search"
          placeholder="Search notebooks  ( / )"
          aria-label="Search notebooks by title or file name"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={onSearchKey}
        />
      </div>
      <ul className="notebook-list" data-testid="notebooks-panel" ref={list}>
        {!loaded && <li className="nb-loading" data-testid="notebooks-loading">Loading notebooks…</li>}
        {loaded && notebooks.length === 0 && <li className="ll-empty">No notebooks in this workspace: + makes one.</li>}
        {loaded && notebooks.length > 0 && flat.length === 0 && searching && <li className="ll-empty" data-testid="notebook-no-match">No notebook matches “{query}”. Esc clears the search.</li>}
        {groups.map((g) => {
          const isCollapsed = !searching && collapsed.has(g.id);
          return (
            <li key={g.id} className="nb-group" data-testid="notebook-group" data-family={g.id}>
              <button className="nb-group-head" aria-expanded={!isCollapsed} onClick={() => toggle(g.id)} data-testid="notebook-group-head">
                <span>{isCollapsed ? '▸' : '▾'}</span> {g.label} <span className="ll-count">{g.items.length}</span>
              </button>
              {!isCollapsed && (
                <ul>
                  {g.items.map((n) => (
                    <li
                      key={n.path}
                      className={`notebook-row${open === n.path ? ' selected' : ''}${activePath === n.path ? ' active' : ''}`}
                      data-testid="notebook-row"
                      data-path={n.path}
                      title={n.title !== n.path ? `${n.title}\n${n.path}` : n.path}
                      onClick={() => void openNotebook(n.path)}
                    >
                      <span className="nb-icon">▤</span>
                      <span className="nb-title">{n.title || n.path}</span>
                      {n.problem && (
                        <span className="nb-problem" data-testid="notebook-problem" title={`${n.problem}: opens read-only`}>
                          ⚠ read-only
                        </span>
                      )}
                      <span className="nb-actions" onClick={(e) => e.stopPropagation()}>
                        <button className="ll-icon-btn" data-testid="notebook-duplicate" title={`Duplicate ${n.path}`} aria-label={`Duplicate ${n.path}`} onClick={() => void duplicateNotebook(n.path)}>
                          <CopyIcon />
                        </button>
                        <button className="ll-icon-btn" data-testid="notebook-rename" title={`Rename ${n.path}`} aria-label={`Rename ${n.path}`} onClick={() => void renameNotebook(n.path)}>
                          <PencilIcon />
                        </button>
                        <button className="ll-icon-btn danger" data-testid="notebook-delete" title={`Delete ${n.path}`} aria-label={`Delete ${n.path}`} onClick={() => void deleteNotebook(n.path)}>
                          <TrashIcon />
                        </button>
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
