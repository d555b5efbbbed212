// lab.data.load against other programs: arrays numpy wrote (the python3 cross-check),
// and an import trained on by a real engine process behind LabService, the run
// recording the import's fingerprint.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importData, loadData } from '../../src/engine/data/import/index';
import { inspectData } from '../../src/engine/data/import/preview';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry } from '../../src/main/services/paths';
import { Workspace } from '../../src/main/services/workspace';
import { writePng } from '../helpers/data-import-writers';
import { allRows, expectRows } from '../helpers/datasets';
import { skipWhen } from '../helpers/skip';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-import-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const load = (rel: string, opts = {}) => loadData(rel, opts, dir);

describe('NPY and NPZ', () => {
  it('arrays written by numpy (cross-check)', (ctx) => {
    const py = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (py.status !== 0) skipWhen(ctx, `/usr/bin/python3 cannot import numpy (${(py.stderr || py.error?.message || '').trim().split('\n').pop()}); apt-get install python3-numpy (.ci/run does)`);
    const script = `
import numpy as np, os
d = ${JSON.stringify(dir)}
a = np.arange(12 * 5, dtype=np.float64).reshape(12, 5) / 8 - 3
np.save(os.path.join(d, 'np_f8.npy'), a)
np.save(os.path.join(d, 'np_i2be.npy'), (np.arange(12 * 5).reshape(12, 5) - 30).astype('>i2'))
np.save(os.path.join(d, 'np_fortran.npy'), np.asfortranarray(a.astype(np.float32)))
np.save(os.path.join(d, 'np_bool.npy'), (np.arange(12 * 4).reshape(12, 2, 2) % 3 == 0))
imgs = (np.arange(14 * 3 * 3) % 256).astype(np.uint8).reshape(14, 3, 3)
np.savez(os.path.join(d, 'np_stored.npz'), x=imgs, y=np.arange(14) % 2)
np.savez_compressed(os.path.join(d, 'np_deflated.npz'), imgs, (np.arange(14) % 2).astype(np.int64))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const a = Array.from({ length: 12 }, (_, i) => Array.from({ length: 5 }, (_, j) => (i * 5 + j) / 8 - 3));
    expect(allRows(load('np_f8.npy'))).toEqual(expectRows(a, null));
    expect(allRows(load('np_fortran.npy'))).toEqual(expectRows(a, null));
    expect(allRows(load('np_i2be.npy'))).toEqual(expectRows(Array.from({ length: 12 }, (_, i) => Array.from({ length: 5 }, (_, j) => i * 5 + j - 30)), null));
    expect(load('np_bool.npy')).toMatchObject({ kind: 'image', binary: true, shape: [2, 2] });
    const imgs = Array.from({ length: 14 }, (_, i) => Array.from({ length: 9 }, (_, p) => ((i * 9 + p) % 256) / 255));
    const y = Array.from({ length: 14 }, (_, i) => i % 2);
    for (const f of ['np_stored.npz', 'np_deflated.npz']) {
      const ds = load(f);
      expect(ds).toMatchObject({ kind: 'image', shape: [3, 3], classes: 2 });
      expect(allRows(ds)).toEqual(expectRows(imgs, y));
    }
  });
});

describe('JSON', () => {
  const write = (name: string, v: unknown) => fs.writeFileSync(path.join(dir, name), typeof v === 'string' ? v : JSON.stringify(v));
  const points = Array.from({ length: 30 }, (_, i) => [i / 10, Math.sin(i)]);

  it('arrays of numbers load as data: points, values, nested shapes as images, an object with x and y', () => {
    write('points.json', points);
    const ds = load('points.json');
    expect(ds).toMatchObject({ name: 'points', kind: 'points', shape: [2], dim: 2 });
    expect(allRows(ds)).toEqual(expectRows(points, null));
    const info = importData('points.json', {}, dir).info;
    expect(info.format).toBe('json');
    expect(info.notes).toEqual(['points.json: a JSON array of 30 arrays of 2 numbers: read as 30 points of shape [2]']);
    // one number per row
    write('values.json', points.map((p) => p[1]));
    expect(load('values.json')).toMatchObject({ kind: 'points', shape: [1] });
    // rows of 3×3 in [0, 255]: images, scaled
    const imgs = Array.from({ length: 12 }, (_, i) => Array.from({ length: 3 }, (_, r) => Array.from({ length: 3 }, (_, c) => (i * 9 + r * 3 + c) % 256)));
    write('imgs.json', { x: imgs, y: imgs.map((_, i) => i % 3) });
    const im = load('imgs.json');
    expect(im).toMatchObject({ kind: 'image', shape: [3, 3], classes: 3 });
    expect(allRows(im)).toEqual(expectRows(imgs.map((m) => m.flat().map((v) => v / 255)), imgs.map((_, i) => i % 3)));
    expect(importData('imgs.json', {}, dir).info.notes[0]).toBe('imgs.json: a JSON object with keys x, y; data in "x" (an array of 12 arrays of 3 arrays), labels in "y": read as 12 images of shape [3, 3]');
    // other keys, named
    write('named.json', { features: points, meta: { source: 'sim' } });
    expect(allRows(load('named.json', { x: 'features' }))).toEqual(expectRows(points, null));
    // a file without an extension that holds a JSON array is read as JSON, not as text
    write('noext', points);
    expect(load('noext')).toMatchObject({ kind: 'points', shape: [2] });
  });

  it('other JSON is refused with what the file holds, and read as text only when asked with { kind: "sequence" }', () => {
    write('config.json', { lr: 0.001, layers: [64, 64], name: 'vae' });
    expect(() => load('config.json')).toThrow(
      'lab.data.load: config.json: a JSON object with keys lr, layers, name, none of them "x" or "data": Latent Lab reads JSON arrays of numbers ([1, 2, …]), arrays of equal-length arrays of numbers ([[x, y], …]), or an object whose "x" holds one (labels in "y"); name the key that holds the data with { x: \'key\' }, or to read the file as text, pass { kind: \'sequence\' }',
    );
    write('words.json', ['alpha', 'beta', 'gamma']);
    expect(() => load('words.json')).toThrow(/^lab\.data\.load: words\.json: a JSON array of 3 strings: Latent Lab reads JSON arrays of numbers/);
    write('ragged.json', [[1, 2], [3, 4, 5]]);
    expect(() => load('ragged.json')).toThrow('lab.data.load: ragged.json: item[1] has 3 items where item[0] has 2: the rows must all have one shape');
    write('holes.json', [[1, 2], [3, null]]);
    expect(() => load('holes.json')).toThrow(/^lab\.data\.load: holes\.json: item\[1\]\[1\] is a JSON null; every value must be a number/);
    write('broken.json', '[1, 2,');
    expect(() => load('broken.json')).toThrow(/^lab\.data\.load: broken\.json: not valid JSON \(/);
    expect(() => load('points.json', { x: 'features' })).toThrow('{ x } and { y } name keys of a JSON object, and this file holds an array');
    // asked for text: the characters, with a note saying what the file is
    const prose = Array.from({ length: 40 }, (_, i) => `line ${i} of a story`);
    write('story.json', prose);
    const r = importData('story.json', { kind: 'sequence', length: 16 }, dir);
    expect(r.dataset).toMatchObject({ kind: 'sequence', shape: [16] });
    expect(r.info.notes).toEqual([`story.json: a JSON array of 40 strings, not numbers: read as text (its characters are the sequence), as { kind: 'sequence' } asks`]);
    expect(r.info.readAs).toBe('text');
  });

  it('the Import dialog\'s summary names the format and what was read', () => {
    const art = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-import-art-'));
    try {
      const s = inspectData('points.json', {}, dir, art);
      expect(s.format).toBe('JSON');
      expect(s.kind).toBe('points');
      expect(s.notes[0]).toContain('a JSON array of 30 arrays of 2 numbers');
      expect(inspectData('story.json', { kind: 'sequence', length: 16 }, dir, art).format).toBe('JSON, read as text');
      expect(() => inspectData('config.json', {}, dir, art)).toThrow(/a JSON object with keys lr, layers, name/);
    } finally {
      fs.rmSync(art, { recursive: true, force: true });
    }
  });
});

describe('a real engine trains on an import', () => {
  it('lab.data.load in a cell → lab.train; the run records the import fingerprint; data.inspect agrees', async () => {
    const entry = engineEntry();
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-import-ws-'));
    // 40 PNG digits-to-be in two classes, 8×8
    for (const [ci, c] of ['bright', 'dark'].entries()) {
      for (let i = 0; i < 20; i++) {
        const px = Array.from({ length: 64 }, (_, p) => (ci === 0 ? 150 + ((p * 7 + i * 3) % 100) : (p * 5 + i) % 90));
        const file = path.join(ws, 'shapes', c, `${String(i).padStart(2, '0')}.png`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, writePng(8, 8, 0, 8, px, { filter: (y) => y % 5 }));
      }
    }
    const service = new LabService({ workspace: new Workspace(ws), launcher: nodeEngineLauncher(entry), interruptGraceMs: 3000 });
    try {
      const inspected = await service.handlers()['data.inspect']({ path: 'shapes', options: {} });
      expect(inspected.error).toBeNull();
      expect(inspected.summary).toMatchObject({ kind: 'image', shape: [8, 8], classes: 2, classNames: ['bright', 'dark'], rows: { train: 32, val: 4, test: 4 } });
      expect(fs.existsSync(path.join(service.workspace.artifactsDir, inspected.summary!.preview!))).toBe(true);
      const code = `const data = lab.data.load('shapes');
const model = lab.models.vae({ latentDim: 2, hidden: [16], likelihood: 'gaussian' });
const run = await lab.train(model, data, { steps: 5, batchSize: 8, evalEvery: 5, sampleEvery: 5, seed: 1 });
[data.fingerprint, run.id].join(' ')`;
      const r = await service.execute('import.ipynb', 'c1', code);
      const err = r.outputs.find((o) => o.type === 'error');
      expect(r.status, JSON.stringify(err)).toBe('ok');
      const text = r.outputs.filter((o) => o.type === 'text').map((o) => (o as { text: string }).text).join('');
      const [fp, runId] = text.trim().split(' ');
      expect(fp).toBe(inspected.summary!.fingerprint);
      const run = service.tracker.getRun(runId)!;
      expect(run).toMatchObject({ status: 'finished', steps: 5, dataFingerprint: inspected.summary!.fingerprint, dataName: 'shapes' });
      // a bad file in a cell: the error names it, and no run starts
      fs.writeFileSync(path.join(ws, 'broken.npy'), Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 200, 0]));
      const bad = await service.execute('import.ipynb', 'c2', "lab.data.load('broken.npy')");
      expect(bad.status).toBe('error');
      expect(bad.outputs.at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('lab.data.load: broken.npy: truncated NPY file') });
      const badInspect = await service.handlers()['data.inspect']({ path: 'broken.npy' });
      expect(badInspect.summary).toBeNull();
      expect(badInspect.error).toContain('lab.data.load: broken.npy: truncated NPY file');
      expect(service.tracker.listRuns().length).toBe(1);
    } finally {
      await service.close();
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});
