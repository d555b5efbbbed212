// CSV / TSV: rows of numbers (2-D points, tabular data). The delimiter is found from
// the first line (comma, semicolon or tab); a first row with a non-number in it is a
// header; quoted fields are read as RFC 4180 says. A label column (by name or index)
// becomes classes: integers 0..255 as they are, anything else by sorted distinct value.
import { checkedProduct, fail } from './errors';

export type CsvOptions = Pick<LatentLab.LoadOptions, 'header' | 'label'>;

export interface CsvTable {
  data: Float32Array;
  n: number;
  dim: number;
  columns: string[];
  labels: Uint8Array | null;
  classNames: string[] | null;
  header: boolean;
  delimiter: string;
}

/** RFC 4180 fields; returns rows of cells with their 1-based line numbers */
function parseRows(file: string, text: string, delim: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 0;
  let i = 0;
  const endRow = () => {
    cells.push(cell);
    cell = '';
    if (!(cells.length === 1 && cells[0].trim() === '')) rows.push({ cells, line: rowLine });
    cells = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      i++;
      continue;
    }
    if (c === '"' && cell.trim() === '') {
      quoted = true;
      quoteLine = line;
      cell = '';
    } else if (c === delim) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else cell += c;
    i++;
  }
  if (quoted) fail(file, `a quoted field that starts on line ${quoteLine} never ends`);
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

const isNumber = (s: string) => s.trim() !== '' && Number.isFinite(Number(s.trim()));

export function parseCsv(file: string, text: string, opts: CsvOptions = {}): CsvTable {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delim = /\.tsv$/i.test(file) || (firstLine.includes('\t') && !firstLine.includes(',')) ? '\t' : firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  const rows = parseRows(file, text, delim);
  if (rows.length === 0) fail(file, 'the CSV file has no rows');
  const width = rows[0].cells.length;
  const header = opts.header ?? (!rows[0].cells.every(isNumber) && rows.length > 1 && rows[1].cells.filter(isNumber).length >= Math.max(1, width - 1));
  const columns = header ? rows[0].cells.map((c, j) => c.trim() || `column ${j + 1}`) : rows[0].cells.map((_, j) => `column ${j + 1}`);
  const body = header ? rows.slice(1) : rows;
  let labelCol = -1;
  if (opts.label !== undefined) {
    if (typeof opts.label === 'number') {
      if (!Number.isInteger(opts.label) || opts.label < 0 || opts.label >= width) fail(file, `label column ${opts.label} does not exist (there are ${width} columns, numbered from 0)`);
      labelCol = opts.label;
    } else {
      labelCol = columns.indexOf(opts.label);
      if (labelCol < 0) fail(file, `no column named '${opts.label}'${header ? ` (the header names ${columns.join(', ')})` : ' (the file has no header row: give the column index)'}`);
    }
  }
  const dim = width - (labelCol >= 0 ? 1 : 0);
  if (dim < 1) fail(file, 'no data columns are left besides the label');
  const n = body.length;
  const data = new Float32Array(checkedProduct(file, [n, dim], 'CSV'));
  const rawLabels: string[] = [];
  for (let r = 0; r < n; r++) {
    const { cells, line } = body[r];
    if (cells.length !== width) fail(file, `row ${line} has ${cells.length} cells, the first row has ${width}`);
    let k = 0;
    for (let j = 0; j < width; j++) {
      if (j === labelCol) {
        rawLabels.push(cells[j].trim());
        continue;
      }
      const s = cells[j].trim();
      if (!isNumber(s)) fail(file, `row ${line}, column ${j + 1}${header ? ` (${columns[j]})` : ''}: ${s === '' ? 'an empty cell' : `'${s.slice(0, 40)}' is not a number`}${labelCol < 0 && r === 0 ? " (a label column? pass { label: 'name' or index })" : ''}`);
      data[r * dim + k++] = Number(s);
    }
  }
  let labels: Uint8Array | null = null;
  let classNames: string[] | null = null;
  if (labelCol >= 0) {
    const ints = rawLabels.every((s) => /^\d+$/.test(s) && Number(s) <= 255);
    const names = ints ? null : [...new Set(rawLabels)].sort();
    if (names && names.length > 256) fail(file, `the label column has ${names.length} distinct values; at most 256 classes are supported`);
    labels = Uint8Array.from(rawLabels, (s) => (ints ? Number(s) : names!.indexOf(s)));
    classNames = names ?? Array.from({ length: labels.reduce((m, v) => Math.max(m, v), 0) + 1 }, (_, i) => String(i));
  }
  return { data, n, dim, columns: columns.filter((_, j) => j !== labelCol), labels, classNames, header, delimiter: delim };
}
