// Bad notebook files, through the real API path (dispatch → LabService handlers →
// Workspace, real files): a seeded generator breaks a real example notebook many
// ways; each broken file opens read-only with its parse error, stays listed
// (marked), and is never overwritten: notebook.write over it is refused and its
// bytes stay identical.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, ftruncateSync, openSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requests } from '../../../../src/shared/api';
import { dispatch } from '../../../../src/shared/channel';
import { Notebook } from '../../../../src/shared/domain';
import { nodeEngineLauncher } from '../../../../src/main/host/node-engine';
import { LabService } from '../../../../src/main/services/lab-service';
import { examplesDir } from '../../../../src/main/services/paths';
import { TrustStore } from '../../../../src/main/services/trust';
import { MAX_NOTEBOOK_BYTES, Workspace } from '../../../../src/main/services/workspace';
import { root } from '../../../helpers/paths';

const exampleText = readFileSync(join(root, 'resources', 'notebooks', 'vae-mnist.ipynb'), 'utf8');
const example = JSON.parse(exampleText) as { cells: Record<string, unknown>[] } & Record<string, unknown>;

let dir: string;
let service: LabService;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'latentlab-bad-'));
  const ws = new Workspace(join(dir, 'ws'), { trust: new TrustStore(join(dir, 'config')) });
  ws.init(examplesDir());
  // the engine is never started here: nothing runs
  service = new LabService({ workspace: ws, launcher: nodeEngineLauncher() });
});
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator, so a failure can be replayed */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  name: string;
  bytes: Buffer;
}

/** broken variants of a real notebook: truncations, byte flips, type swaps, garbage */
function brokenNotebooks(seed: number): Case[] {
  const r = rng(seed);
  const src = Buffer.from(exampleText, 'utf8');
  const out: Case[] = [];
  // truncated at many offsets (every one of them cuts the JSON short)
  for (let i = 0; i < 150; i++) {
    const at = Math.floor(r() * (src.length - 2)) + 1;
    out.push({ name: `truncated at ${at}`, bytes: src.subarray(0, at) });
  }
  for (const at of [0, 1, 2, src.length - 2]) out.push({ name: `truncated at ${at}`, bytes: src.subarray(0, at) });
  // random byte flips (some still parse: those must open as good notebooks)
  for (let i = 0; i < 150; i++) {
    const b = Buffer.from(src);
    const flips = 1 + Math.floor(r() * 6);
    for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    out.push({ name: `${flips} bytes flipped (#${i})`, bytes: b });
  }
  // a wrong type in a field
  const swaps: [string, (nb: Record<string, any>) => void][] = [
    ['cells is an object', (nb) => (nb.cells = { a: 1 })],
    ['cells is missing', (nb) => delete nb.cells],
    ['nbformat 3', (nb) => (nb.nbformat = 3)],
    ['nbformat is a string', (nb) => (nb.nbformat = '4')],
    ['nbformat_minor missing', (nb) => delete nb.nbformat_minor],
    ['metadata is a list', (nb) => (nb.metadata = [])],
  ];
  const cellFields: [string, unknown][] = [
    ['source', 42], ['source', null], ['source', [1, 2]], ['source', { text: 'x' }], ['cell_type', 'python'], ['cell_type', 7],
    ['metadata', 'tags'], ['outputs', 'none'], ['outputs', [5]], ['execution_count', 'one'], ['execution_count', 1.5], ['id', 12],
  ];
  for (const [field, value] of cellFields) {
    const i = Math.floor(r() * example.cells.length);
    swaps.push([`cell ${i}: ${field} = ${JSON.stringify(value)}`, (nb) => (nb.cells[i][field] = value)]);
  }
  for (let i = 0; i < 40; i++) {
    const field = ['cell_type', 'source', 'metadata', 'outputs', 'execution_count'][Math.floor(r() * 5)];
    const value = [17, 'x', true, null, [], {}, [null]][Math.floor(r() * 7)];
    const cell = Math.floor(r() * example.cells.length);
    swaps.push([`cell ${cell}: ${field} = ${JSON.stringify(value)} (random)`, (nb) => (nb.cells[cell][field] = value)]);
  }
  swaps.push(['a cell is a string', (nb) => (nb.cells[0] = 'cell')], ['a cell is null', (nb) => (nb.cells[1] = null)]);
  for (const [name, edit] of swaps) {
    const nb = JSON.parse(exampleText);
    edit(nb);
    out.push({ name, bytes: Buffer.from(JSON.stringify(nb, null, 1)) });
  }
  // not notebooks at all
  for (const [name, text] of [['empty', ''], ['null', 'null'], ['a list', '[]'], ['an empty object', '{}'], ['a number', '4'], ['a string', '"nb"']]) {
    out.push({ name, bytes: Buffer.from(text) });
  }
  for (let i = 0; i < 20; i++) {
    const n = 1 + Math.floor(r() * 5000);
    out.push({ name: `binary garbage ${n} bytes`, bytes: Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256))) });
  }
  out.push({ name: 'a PNG file', bytes: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 0)]) });
  out.push({ name: 'UTF-16 text', bytes: Buffer.from('\ufeff' + exampleText, 'utf16le') });
  return out;
}

const call = (name: string, input: unknown) => dispatch(service.handlers(), name, input);

describe('malformed notebooks open read-only and are never overwritten', () => {
  it('fuzzed notebooks: every one opens (read-only when broken), is listed, and notebook.write over a broken one is refused', async () => {
    const cases = brokenNotebooks(8);
    const counts = { tried: 0, readOnly: 0, stillGood: 0, writesRefused: 0, salvaged: 0 };
    const ws = service.workspace;
    for (const [i, c] of cases.entries()) {
      const rel = `fuzz-${i}.ipynb`;
      const file = join(ws.dir, rel);
      writeFileSync(file, c.bytes);
      counts.tried++;
      const res = await call('notebook.read', { path: rel });
      expect(res.ok, `${c.name}: ${'error' in res ? res.error : ''}`).toBe(true);
      const out = requests['notebook.read'].output.parse((res as { output: unknown }).output);
      // a good notebook by our schema? (a byte flip inside a string still is one)
      let parses = false;
      try {
        Notebook.parse(JSON.parse(c.bytes.toString('utf8')));
        parses = true;
      } catch {
        parses = false;
      }
      if (parses) {
        counts.stillGood++;
        expect(out.readOnly, c.name).toBeNull();
        continue;
      }
      counts.readOnly++;
      expect(out.readOnly, c.name).toMatch(new RegExp(`^${rel.replace('.', '\\.')} (is not valid JSON|is not an nbformat 4 notebook)`));
      expect(out.trusted, c.name).toBe(false);
      expect(out.notebook.cells.length, c.name).toBeGreaterThan(0); // the salvaged cells, or the raw text
      if (out.notebook.cells[0].cell_type !== 'raw') counts.salvaged++;
      // the app's save is refused and the bytes stay as they were
      const w = await call('notebook.write', { path: rel, notebook: out.notebook });
      expect(w.ok, c.name).toBe(false);
      expect((w as { error: string }).error).toMatch(/was not saved: the file on disk .* is read-only and left as it is/);
      counts.writesRefused++;
      expect(readFileSync(file).equals(c.bytes), `${c.name}: bytes changed`).toBe(true);
      // and the code of a broken file never runs, whatever the UI sends
      const x = await call('kernel.execute', { notebook: rel, cellId: 'cell-1', code: '1' });
      expect(x.ok, c.name).toBe(false);
    }
    // every file is listed; the broken ones are marked with their problem
    const list = await call('notebooks.list', {});
    const entries = (list as { output: { notebooks: { path: string; problem?: string }[] } }).output.notebooks;
    const fuzzEntries = entries.filter((e) => e.path.startsWith('fuzz-'));
    expect(fuzzEntries).toHaveLength(cases.length);
    expect(fuzzEntries.filter((e) => e.problem).length).toBe(counts.readOnly);
    console.log(`fuzzed notebooks: ${JSON.stringify(counts)}`);
    expect(counts.readOnly).toBeGreaterThan(300);
    expect(service.engineInfo().status).toBe('stopped'); // nothing started an engine
  });

  it('a truncated notebook shows its raw text; a wrong type in one cell keeps the other cells', async () => {
    const ws = service.workspace;
    writeFileSync(join(ws.dir, 'cut.ipynb'), exampleText.slice(0, 300));
    const cut = (await service.handlers()['notebook.read']({ path: 'cut.ipynb' }));
    expect(cut.readOnly).toMatch(/^cut\.ipynb is not valid JSON/);
    expect(cut.notebook.cells).toHaveLength(1);
    expect(cut.notebook.cells[0]).toMatchObject({ cell_type: 'raw', source: exampleText.slice(0, 300) });

    const nb = JSON.parse(exampleText);
    nb.cells[1].source = 42;
    writeFileSync(join(ws.dir, 'typo.ipynb'), JSON.stringify(nb));
    const typo = await service.handlers()['notebook.read']({ path: 'typo.ipynb' });
    expect(typo.readOnly).toBe('typo.ipynb is not an nbformat 4 notebook: cells.1.source: Invalid input');
    expect(typo.notebook.cells).toHaveLength(example.cells.length - 1);
  });

  it('a huge file opens read-only without being read whole, and is not overwritten', async () => {
    const ws = service.workspace;
    const file = join(ws.dir, 'huge.ipynb');
    const fd = openSync(file, 'w');
    writeSync(fd, '{"nbformat": 4, "cells": [');
    ftruncateSync(fd, MAX_NOTEBOOK_BYTES + 1024); // a sparse file: zeros after the start
    closeSync(fd);
    const res = await service.handlers()['notebook.read']({ path: 'huge.ipynb' });
    expect(res.readOnly).toMatch(/^huge\.ipynb is too large to open \(64\.0 MB; the limit is 64 MB\)/);
    expect(String(res.notebook.cells[0].source).startsWith('{"nbformat": 4')).toBe(true);
    const w = await call('notebook.write', { path: 'huge.ipynb', notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] } });
    expect(w.ok).toBe(false);
    expect(statSync(file).size).toBe(MAX_NOTEBOOK_BYTES + 1024);
  });

  it('a missing notebook and a path outside the workspace are errors, not read-only notebooks', async () => {
    expect(await call('notebook.read', { path: 'nope.ipynb' })).toMatchObject({ ok: false, error: 'no notebook nope.ipynb' });
    expect(await call('notebook.read', { path: '../x.ipynb' })).toMatchObject({ ok: false });
  });
});
