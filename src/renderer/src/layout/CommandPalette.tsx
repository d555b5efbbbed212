// The command palette (Ctrl/Cmd+Shift+P): every registered command with its keys,
// filtered as one types; arrows and Enter run one, Esc closes. And the keyboard
// shortcuts sheet (H in command mode), drawn from the same registry.
import { useEffect, useMemo, useRef, useState } from 'react';
import { create } from 'zustand';
import { filterCommands, listCommands, registerCommands, type LabCommand } from '../commands';
import './palette.css';

const usePalette = create<{ open: 'palette' | 'keys' | null }>(() => ({ open: null }));
/** where the keyboard was when the palette opened: it goes back there on close */
let returnTo: HTMLElement | null = null;

function show(open: 'palette' | 'keys'): void {
  if (!usePalette.getState().open) returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  usePalette.setState({ open });
}

function close(): void {
  usePalette.setState({ open: null });
  if (returnTo?.isConnected) returnTo.focus({ preventScroll: true });
  returnTo = null;
}

export const openPalette = () => show('palette');
export const openKeysHelp = () => show('keys');

const MOD = /Mac|iPhone|iPad/.test(navigator.platform) ? 'Cmd' : 'Ctrl';
registerCommands([
  { id: 'help.palette', group: 'Help', label: 'Show all commands (command palette)', keys: `${MOD}+Shift+P`, run: openPalette },
  { id: 'help.keys', group: 'Help', label: 'Keyboard shortcuts (command mode keys)', keys: 'H', run: openKeysHelp },
]);

const enabled = (c: LabCommand) => !c.enabled || c.enabled();
/** the registry's commands, the Help ones last */
const commands = () => {
  const all = listCommands();
  return [...all.filter((c) => c.group !== 'Help'), ...all.filter((c) => c.group === 'Help')];
};

function Keys({ keys }: { keys?: string }) {
  if (!keys) return null;
  // 'K / ↑' → two alternatives; 'D D' → a sequence; 'Ctrl+Enter' → a chord
  return (
    <span className="palette-keys">
      {keys.split(' / ').map((alt, i) => (
        <span key={i}>
          {i > 0 && <span className="muted"> or </span>}
          {alt.split(' ').map((k, j) => (
            <kbd key={j}>{k}</kbd>
          ))}
        </span>
      ))}
    </span>
  );
}

function Palette() {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const list = useRef<HTMLUListElement>(null);
  // read once per opening: commands registered since show up next time
  const all = useMemo(commands, []);
  const items = filterCommands(all, query);
  const current = Math.min(active, Math.max(0, items.length - 1));

  useEffect(() => {
    list.current?.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [current, query]);

  const run = (c: LabCommand | undefined) => {
    if (!c || !enabled(c)) return;
    close();
    void c.run();
  };
  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = items.length;
      if (n > 0) setActive((current + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      run(items[current]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  };

  return (
    <div className="palette-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div className="palette" role="dialog" aria-label="Command palette" data-testid="command-palette" onKeyDown={onKey}>
        <input
          autoFocus
          className="palette-input"
          data-testid="palette-input"
          placeholder="Type a command: run, insert, delete, restart…"
          value={query}
          spellCheck={false}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
        />
        <ul className="palette-list" ref={list} role="listbox">
          {items.map((c, i) => (
            <li
              key={c.id}
              role="option"
              aria-selected={i === current}
              aria-disabled={!enabled(c)}
              className={`palette-item${i === current ? ' active' : ''}${enabled(c) ? '' : ' disabled'}`}
              data-testid="palette-item"
              data-command-id={c.id}
              onMouseMove={() => i !== current && setActive(i)}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => run(c)}
            >
              {c.group && <span className="palette-group">{c.group}</span>}
              <span className="palette-label">{c.label}</span>
              <Keys keys={c.keys} />
            </li>
          ))}
          {items.length === 0 && <li className="palette-empty muted">No command matches “{query}”</li>}
        </ul>
      </div>
    </div>
  );
}

function KeysHelp() {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const groups = new Map<string, LabCommand[]>();
  for (const c of commands()) {
    if (!c.keys) continue;
    const g = c.group ?? 'Other';
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  return (
    <div className="palette-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div
        ref={ref}
        tabIndex={-1}
        className="palette keys-help"
        role="dialog"
        aria-label="Keyboard shortcuts"
        data-testid="keys-help"
        onKeyDown={(e) => {
          if (e.key === 'Escape' || e.key === 'Enter') {
            e.preventDefault();
            e.stopPropagation();
            close();
          }
        }}
      >
        <div className="keys-head">
          <b>Keyboard shortcuts</b>
          <span className="spacer" />
          <button className="ll-icon-btn" title="Close (Esc)" onClick={close}>
            ✕
          </button>
        </div>
        <p className="muted keys-intro">
          A cell is in <b>edit mode</b> while you type in it. <kbd>Esc</kbd> leaves the editor for <b>command mode</b>: the cell
          is selected (a blue band) and single keys act on it. <kbd>Enter</kbd> edits it again. Letter keys never fire
          while you type in an editor, a field or a dialog.
        </p>
        {[...groups].map(([g, cs]) => (
          <section key={g}>
            <h4>{g}</h4>
            <table>
              <tbody>
                {cs.map((c) => (
                  <tr key={c.id}>
                    <td className="keys-col">
                      <Keys keys={c.keys} />
                    </td>
                    <td>{c.label}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
    </div>
  );
}

/** The palette and the shortcuts sheet, and Ctrl/Cmd+Shift+P anywhere in the window (editors too). */
export function CommandPalette() {
  const open = usePalette((s) => s.open);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.shiftKey && !e.altKey && e.key.toLowerCase() === 'p') {
        e.preventDefault();
        e.stopPropagation();
        if (usePalette.getState().open === 'palette') close();
        else show('palette');
      }
    };
    // the capture phase: before Monaco (or any field) sees the keys
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);
  if (open === 'palette') return <Palette />;
  if (open === 'keys') return <KeysHelp />;
  return null;
}
