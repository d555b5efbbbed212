// How one metric series is drawn (pure: no Plotly here, so it is tested without a DOM).

/** Lines, with markers while a series has a single point (a line alone draws nothing: empty axes from −1 to 1). */
export function traceMode(group: string, points: number): 'lines' | 'lines+markers' {
  // test/* is evaluated once, after training: a point
  return group === 'test' || points <= 1 ? 'lines+markers' : 'lines';
}

/**
 * Whether a key starts visible in its chart (else it waits in the legend). Validation and
 * test metrics have unrelated units (nats, bits/dim, counts): only the run's primary
 * metric (val) or the first non-info key (test) is drawn at first; numbers that only
 * qualify others (kind 'info': a sample count, a classifier version) never share the axis.
 */
export function startsVisible(group: string, key: string, kind: string | undefined, primary: string | null, shownInGroup: number): boolean {
  if (group === 'val') return !primary || key === primary || (!primary.startsWith('val/') && shownInGroup === 0);
  if (group === 'test') return kind !== 'info' && shownInGroup === 0;
  return true;
}

/** Keys the live view in a cell leaves to the cells that made them: lab.evaluate's test/* numbers. */
export function isLaterCellMetric(key: string): boolean {
  return key.startsWith('test/');
}

/** Artifacts the same: the pictures run.samples() drew (kind 'image') are shown by the cell that called it. */
export function isLaterCellArtifact(kind: string): boolean {
  return kind === 'image';
}

/** A figure's scatter traces with one point drawn as lines get a marker too (lab.plot, the views). */
export function withPointMarkers<T extends Record<string, unknown>>(data: T[]): T[] {
  return data.map((t) => {
    const type = t.type ?? 'scatter';
    const mode = t.mode;
    const n = Array.isArray(t.y) ? t.y.length : Array.isArray(t.x) ? t.x.length : 0;
    if ((type !== 'scatter' && type !== 'scattergl') || n !== 1) return t;
    if (mode !== undefined && mode !== 'lines') return t;
    return { ...t, mode: 'lines+markers' };
  });
}
