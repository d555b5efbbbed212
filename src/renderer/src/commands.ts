// The command registry: every command the palette (Ctrl/Cmd+Shift+P) lists. A feature
// adds its own with registerCommands([...]) from its module; the palette reads the
// registry each time it opens, so commands registered late show up too.

export interface LabCommand {
  /** unique, dotted: 'notebook.runAll', 'cell.insertBelow' */
  id: string;
  /** what the palette shows and filters on */
  label: string;
  /** the keys as the user presses them, for display: 'Shift+Enter', 'D D' (command mode keys are plain letters) */
  keys?: string;
  /** the palette's group heading, e.g. 'Cell', 'Notebook', 'Kernel' */
  group?: string;
  /** false hides the command from the palette (e.g. nothing to undo) */
  enabled?(): boolean;
  run(): void | Promise<void>;
}

const registry = new Map<string, LabCommand>();

/** Adds (or replaces, by id) commands; returns a function that removes them again. */
export function registerCommands(commands: LabCommand[]): () => void {
  for (const c of commands) registry.set(c.id, c);
  return () => {
    for (const c of commands) if (registry.get(c.id) === c) registry.delete(c.id);
  };
}

/** The registered commands in registration order. */
export function listCommands(): LabCommand[] {
  return [...registry.values()];
}

export function getCommand(id: string): LabCommand | undefined {
  return registry.get(id);
}

/** Runs a command by id; false when there is none or it is disabled. */
export function runCommand(id: string): boolean {
  const c = registry.get(id);
  if (!c || (c.enabled && !c.enabled())) return false;
  void c.run();
  return true;
}

/**
 * The commands whose label (or group, id or keys) holds every word of the query, in any
 * order and case; words that start the label rank first. An empty query lists them all.
 */
export function filterCommands(commands: LabCommand[], query: string): LabCommand[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return commands;
  const scored: { c: LabCommand; score: number; i: number }[] = [];
  commands.forEach((c, i) => {
    const label = c.label.toLowerCase();
    const hay = `${label} ${(c.group ?? '').toLowerCase()} ${c.id.toLowerCase()} ${(c.keys ?? '').toLowerCase()}`;
    if (!words.every((w) => hay.includes(w))) return;
    const score = (label.startsWith(words[0]) ? 0 : 2) + (words.every((w) => label.includes(w)) ? 0 : 1);
    scored.push({ c, score, i });
  });
  return scored.sort((a, b) => a.score - b.score || a.i - b.i).map((s) => s.c);
}
