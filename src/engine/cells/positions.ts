// Where a position of the script the engine runs was in the cell the user wrote. Two
// steps shift columns (never lines): sucrase's type stripping (its source map, decoded
// here) and the transform's own edits (`return (`, dropped `const`, the wrapper on line 1).

export interface Pos {
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** per generated line: [generated column, source column] pairs (0-based), from a v3 source map's mappings */
export function decodeLineColumns(mappings: string): [number, number][][] {
  const lines: [number, number][][] = [];
  let srcCol = 0;
  for (const lineText of mappings.split(';')) {
    const segs: [number, number][] = [];
    let genCol = 0;
    for (const seg of lineText.split(',')) {
      if (!seg) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += fields[0];
      if (fields.length >= 4) {
        srcCol += fields[3];
        segs.push([genCol, srcCol]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

/** offset → {line, column} (both 0-based) */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** An edit of the type-stripped JS: at `at`, delete `del` characters and insert `insert` (no newline in either). */
export interface Edit {
  at: number;
  del: number;
  insert: string;
}

/**
 * Applies edits (any order, non-overlapping) to `js` behind a one-line `prefix`, and
 * returns the result with a mapper from its positions back to the cell's source
 * (`stripMap`: sucrase's columns per line).
 */
export function applyEdits(js: string, edits: Edit[], prefix: string, stripMap: [number, number][][] | null): { out: string; toSource: (line: number, column: number) => Pos | null } {
  const sorted = edits.slice().sort((a, b) => a.at - b.at);
  // pieces of the output, each [outStart, jsStart, length] of text copied from js unchanged;
  // inserted text maps to where it was inserted
  const copied: [number, number, number][] = [];
  const inserted: [number, number, number][] = [[0, 0, prefix.length]]; // [outStart, jsAt, length]
  let out = prefix;
  let pos = 0;
  for (const e of sorted) {
    copied.push([out.length, pos, e.at - pos]);
    out += js.slice(pos, e.at);
    inserted.push([out.length, e.at, e.insert.length]);
    out += e.insert;
    pos = e.at + e.del;
  }
  copied.push([out.length, pos, js.length - pos]);
  out += js.slice(pos);
  const outStarts = lineStarts(out);
  const jsStarts = lineStarts(js);
  const sourceLines = jsStarts.length;

  const outToJs = (o: number): number => {
    for (const [s, j, n] of copied) if (o >= s && o < s + n) return j + (o - s);
    for (const [s, j, n] of inserted) if (o >= s && o < s + Math.max(n, 1)) return j;
    return js.length;
  };
  const toSource = (line: number, column: number): Pos | null => {
    if (line < 1 || line > outStarts.length) return null;
    const j = outToJs(outStarts[line - 1] + column - 1);
    let l = 0;
    while (l + 1 < jsStarts.length && jsStarts[l + 1] <= j) l++;
    if (l >= sourceLines) return null;
    let col = j - jsStarts[l];
    const segs = stripMap?.[l];
    if (segs && segs.length > 0) {
      let best: [number, number] | null = null;
      for (const s of segs) if (s[0] <= col) best = s;
      if (best) col = best[1] + (col - best[0]);
    }
    return { line: l + 1, column: col + 1 };
  };
  return { out, toSource };
}
