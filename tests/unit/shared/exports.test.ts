// The export entry of the contract: what the renderer writes into a download URL is
// what both hosts read back, and a bad query is refused with one clear line.
import { describe, expect, it } from 'vitest';
import { EXPORT_CHOICE_NAMES, EXPORT_CHOICES, EXPORT_KINDS, ExportRequestError, exportQuery, parseExportQuery } from '../../../src/shared/exports';

const parse = (pathAndQuery: string) => {
  const [kind, query] = pathAndQuery.split('?');
  return parseExportQuery(kind, new URLSearchParams(query));
};
const refusal = (pathAndQuery: string) => {
  try {
    parse(pathAndQuery);
  } catch (e) {
    expect(e).toBeInstanceOf(ExportRequestError);
    return (e as Error).message;
  }
  throw new Error(`${pathAndQuery} was accepted`);
};

describe('export requests', () => {
  it('every export the app offers survives its URL', () => {
    expect(EXPORT_CHOICE_NAMES).toEqual(['report', 'pdf', 'grid', 'gif', 'metrics']);
    expect([...EXPORT_KINDS].sort()).toEqual(['gif', 'grid', 'metrics', 'report']);
    const runs = ['r-1', 'r-2'];
    expect(parse(exportQuery(EXPORT_CHOICES.report.request(runs)))).toEqual({ kind: 'report', runs, format: 'html' });
    expect(parse(exportQuery(EXPORT_CHOICES.pdf.request(runs)))).toEqual({ kind: 'report', runs, format: 'pdf' });
    expect(parse(exportQuery(EXPORT_CHOICES.metrics.request(runs)))).toEqual({ kind: 'metrics', runs });
    // grid and GIF take the first run only
    expect(parse(exportQuery(EXPORT_CHOICES.grid.request(runs)))).toMatchObject({ kind: 'grid', runs: ['r-1'], scale: 3 });
    expect(parse(exportQuery(EXPORT_CHOICES.gif.request(runs)))).toMatchObject({ kind: 'gif', runs: ['r-1'], scale: 2 });
  });

  it('reads a grid layout with labels, and drops the access token', () => {
    const q = parse('grid?runs=r-1&step=200&rows=2&cols=4&pad=0&scale=2&rowLabels=a,%20b&colLabels=index&token=secret');
    expect(q).toEqual({ kind: 'grid', runs: ['r-1'], step: 200, rows: 2, cols: 4, pad: 0, scale: 2, rowLabels: ['a', 'b'], colLabels: 'index' });
    expect(exportQuery({ kind: 'grid', runs: ['r-1'], rowLabels: ['a', 'b'], scale: 2 })).toBe('grid?runs=r-1&rowLabels=a%2Cb&scale=2');
  });

  it('refuses a bad query with the reason', () => {
    expect(refusal('pictures?runs=r-1')).toBe("no export 'pictures' (metrics, report, grid, gif)");
    expect(refusal('metrics?runs=')).toBe('no run given');
    expect(refusal('grid?runs=a,b')).toBe('a grid export takes one run');
    expect(refusal('gif?runs=a,b')).toBe('a gif export takes one run');
    expect(refusal('grid?runs=a&scale=big')).toBe("scale takes a whole number (got 'big')");
    expect(refusal('gif?runs=a&delay=-5')).toBe("delay takes a whole number (got '-5')");
    expect(refusal('report?runs=a&format=docx')).toBe("format is 'html' or 'pdf'");
  });
});
