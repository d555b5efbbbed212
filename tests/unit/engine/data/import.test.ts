// lab.data.load on real files written by the test: every format round-trips (shapes,
// values, labels, class names), the fingerprint follows the bytes, malformed and
// truncated files fail with the file's name. Files numpy wrote, and an engine
// process training on an import: tests/integration/data-import.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importData, ImportError, loadData } from '../../../../src/engine/data/import/index';
import { inspectData } from '../../../../src/engine/data/import/preview';
import { encodeWav, muLawEncode } from '../../../../src/engine/data/waveforms';
import { TEXT_VOCAB } from '../../../../src/engine/data/text';
import { crc32 } from '../../../../src/engine/util/png';
import { seeded, writeIdx, writeNpy, writePng, writeZip, type NpyDtype } from '../../../helpers/data-import-writers';
import { allRows, expectRows } from '../../../helpers/datasets';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-import-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const put = (rel: string, bytes: Buffer | string): string => {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes);
  return rel;
};
const load = (rel: string, opts = {}) => loadData(rel, opts, dir);

/** n images h×w whose pixels are unique per image: value (i·7 + p) mod 256 */
const pixel = (i: number, p: number) => (i * 7 + p * 13) % 256;

describe('IDX', () => {
  const n = 20, h = 4, w = 3;
  const px = Array.from({ length: n * h * w }, (_, k) => pixel(Math.floor(k / (h * w)), k % (h * w)));
  const labels = Array.from({ length: n }, (_, i) => i % 4);
  const expected = Array.from({ length: n }, (_, i) => px.slice(i * h * w, (i + 1) * h * w).map((v) => v / 255));

  for (const gz of [false, true]) {
    it(`images + labels, ${gz ? 'gzipped' : 'plain'}, paired by name`, () => {
      const suffix = gz ? '.gz' : '';
      put(`idx${gz}/train-images-idx3-ubyte${suffix}`, writeIdx('u1', [n, h, w], px, gz));
      put(`idx${gz}/train-labels-idx1-ubyte${suffix}`, writeIdx('u1', [n], labels, gz));
      const ds = load(`idx${gz}/train-images-idx3-ubyte${suffix}`);
      expect(ds).toMatchObject({ kind: 'image', shape: [h, w], dim: h * w, binary: false, classes: 4, classNames: ['0', '1', '2', '3'] });
      expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([16, 2, 2]);
      expect(allRows(ds)).toEqual(expectRows(expected, labels));
      expect(ds.settings).toMatchObject({ format: 'idx', gzipped: gz, labels: true });
    });
  }

  it('labels by option; every IDX dtype', () => {
    put('idx-opt/pics.idx', writeIdx('u1', [n, h, w], px));
    put('idx-opt/y.idx', writeIdx('u1', [n], labels));
    const ds = load('idx-opt/pics.idx', { labels: 'idx-opt/y.idx' });
    expect(allRows(ds)).toEqual(expectRows(expected, labels));
    const pts = Array.from({ length: 24 }, (_, i) => [i - 12, (i * 3) % 7]);
    for (const t of ['i1', 'i2', 'i4', 'f4', 'f8'] as const) {
      put(`idx-types/${t}.idx`, writeIdx(t, [24, 2], pts.flat()));
      const p = load(`idx-types/${t}.idx`);
      expect(p).toMatchObject({ kind: 'points', shape: [2], dim: 2 });
      expect(p.settings.dtype).toBe(t);
      expect(allRows(p)).toEqual(expectRows(pts, null));
    }
  });

  it('a truncated file names the file and the sizes', () => {
    const header = writeIdx('u1', [60000, 28, 28], new Uint8Array(0));
    put('data/x.idx', Buffer.concat([header, Buffer.alloc(1234, 7)]));
    expect(() => load('data/x.idx')).toThrow('lab.data.load: data/x.idx: truncated IDX file: the header promises 60000×28×28 = 47,040,000 bytes, the file has 1,234');
  });

  it('absurd dims are refused before allocating', () => {
    const b = writeIdx('f8', [0xffffffff, 0xffffffff, 0xffffffff], []);
    put('data/huge.idx', b);
    expect(() => load('data/huge.idx')).toThrow(/data\/huge\.idx: IDX header: dims 4294967295×4294967295×4294967295 promise more values than/);
  });
});

describe('NPY and NPZ', () => {
  const shape = [12, 3];
  const vals = (signed: boolean, float: boolean) => Array.from({ length: 36 }, (_, i) => (float ? (i - 18) / 4 : signed ? i - 18 : i));
  const dtypes: [NpyDtype, boolean, boolean][] = [['u1', false, false], ['i1', true, false], ['i2', true, false], ['i4', true, false], ['i8', true, false], ['f4', true, true], ['f8', true, true]];

  for (const [dt, signed, float] of dtypes) {
    it(`dtype ${dt}: little and big endian, versions 1/2/3`, () => {
      const v = vals(signed, float);
      const rows = Array.from({ length: 12 }, (_, i) => v.slice(3 * i, 3 * i + 3));
      for (const [bigEndian, version] of [[false, 1], [true, 2], [false, 3]] as const) {
        put(`npy/${dt}-${version}.npy`, writeNpy(dt, shape, v, { bigEndian, version }));
        const ds = load(`npy/${dt}-${version}.npy`);
        expect(ds).toMatchObject({ kind: 'points', shape: [3] });
        expect(allRows(ds)).toEqual(expectRows(rows, null));
      }
    });
  }

  it('b1 and Fortran order (transposed to C order); images [n, h, w] and [n, C, h, w]', () => {
    const bits = Array.from({ length: 12 * 2 * 2 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    put('npy/b1.npy', writeNpy('b1', [12, 2, 2], bits));
    const b = load('npy/b1.npy');
    expect(b).toMatchObject({ kind: 'image', shape: [2, 2], binary: true });
    expect(allRows(b)).toEqual(expectRows(Array.from({ length: 12 }, (_, i) => bits.slice(4 * i, 4 * i + 4)), null));
    const v = Array.from({ length: 12 * 3 * 2 }, (_, i) => i);
    put('npy/fortran.npy', writeNpy('f4', [12, 3, 2], v, { fortran: true }));
    const f = load('npy/fortran.npy', { kind: 'points' });
    expect(allRows(f)).toEqual(expectRows(Array.from({ length: 12 }, (_, i) => v.slice(6 * i, 6 * i + 6)), null));
    // channels first → channels last, values 0..255 → [0, 1]
    const chw = Array.from({ length: 10 * 3 * 2 * 2 }, (_, i) => i % 256);
    put('npy/nchw.npy', writeNpy('u1', [10, 3, 2, 2], chw));
    const c = load('npy/nchw.npy');
    expect(c.shape).toEqual([2, 2, 3]);
    const hwc = Array.from({ length: 10 }, (_, r) => Array.from({ length: 12 }, (_, q) => chw[r * 12 + (q % 3) * 4 + Math.floor(q / 3)] / 255));
    expect(allRows(c)).toEqual(expectRows(hwc, null));
  });

  for (const deflate of [false, true]) {
    it(`NPZ ${deflate ? 'deflated' : 'stored'}: x and y by name, arr_0/arr_1, and chosen by option`, () => {
      const x = Array.from({ length: 15 * 4 }, (_, i) => (i * 5) % 256);
      const y = Array.from({ length: 15 }, (_, i) => i % 3);
      const rows = Array.from({ length: 15 }, (_, i) => x.slice(4 * i, 4 * i + 4));
      put(`npz/xy-${deflate}.npz`, writeZip([{ name: 'x.npy', data: writeNpy('f8', [15, 4], x) }, { name: 'y.npy', data: writeNpy('i8', [15], y) }], deflate));
      const ds = load(`npz/xy-${deflate}.npz`);
      expect(ds).toMatchObject({ kind: 'points', shape: [4], classes: 3 });
      expect(allRows(ds)).toEqual(expectRows(rows, y));
      put(`npz/arr-${deflate}.npz`, writeZip([{ name: 'arr_0.npy', data: writeNpy('u1', [15, 2, 2], x) }, { name: 'arr_1.npy', data: writeNpy('u1', [15], y) }], deflate));
      const a = load(`npz/arr-${deflate}.npz`);
      expect(a).toMatchObject({ kind: 'image', shape: [2, 2], classes: 3 });
      expect(allRows(a)).toEqual(expectRows(rows.map((r) => r.map((v) => v / 255)), y));
      put(`npz/named-${deflate}.npz`, writeZip([{ name: 'feats.npy', data: writeNpy('f4', [15, 4], x) }, { name: 'cls.npy', data: writeNpy('u1', [15], y) }, { name: 'other.npy', data: writeNpy('u1', [2], [1, 2]) }], deflate));
      expect(() => load(`npz/named-${deflate}.npz`)).toThrow(/which array is the data\? The archive holds feats, cls, other/);
      expect(allRows(load(`npz/named-${deflate}.npz`, { x: 'feats', y: 'cls' }))).toEqual(expectRows(rows, y));
    });
  }
});

describe('image folders', () => {
  const size = 5;
  /** a gray value for image i of class c at pixel p (0..255), unique per image */
  const g = (c: number, i: number, p: number) => (c * 60 + i * 11 + p * 9) % 256;

  it('PNG class subfolders: every colour type, 1/2/4/8/16-bit, all five filters, palettes', () => {
    const classes = ['cat', 'dog', 'emu'];
    const expectedRows: number[][] = [];
    const expectedLabels: number[] = [];
    const filter = (k: number) => (y: number) => (y + k) % 5;
    let k = 0;
    classes.forEach((c, ci) => {
      for (let i = 0; i < 5; i++, k++) {
        const gray = Array.from({ length: size * size }, (_, p) => g(ci, i, p));
        const variant = k % 6;
        let png: Buffer;
        let exp = gray.map((v) => v / 255);
        if (variant === 0) png = writePng(size, size, 0, 8, gray, { filter: filter(k) });
        else if (variant === 1) {
          // RGB with R = G = B: luma is the gray value
          png = writePng(size, size, 2, 8, gray.flatMap((v) => [v, v, v]), { filter: filter(k) });
          exp = gray.map((v) => (0.299 * v + 0.587 * v + 0.114 * v) / 255);
        } else if (variant === 2) png = writePng(size, size, 4, 8, gray.flatMap((v) => [v, 200]), { filter: filter(k) });
        else if (variant === 3) png = writePng(size, size, 6, 16, gray.flatMap((v) => [v * 257, v * 257, v * 257, 65535]), { filter: filter(k) });
        else if (variant === 4) {
          // 4-bit gray: values 0..15
          const g4 = gray.map((v) => v >> 4);
          png = writePng(size, size, 0, 4, g4, { filter: filter(k) });
          exp = g4.map((v) => v / 15);
        } else {
          // 2-bit gray palette
          const pal = [[0, 0, 0], [85, 85, 85], [170, 170, 170], [255, 255, 255]];
          const idx = gray.map((v) => v >> 6);
          png = writePng(size, size, 3, 2, idx, { filter: filter(k), palette: pal });
          exp = idx.map((v) => (v * 85) / 255);
        }
        put(`pngs/${c}/img${i}.png`, png);
        expectedRows.push(exp);
        expectedLabels.push(ci);
      }
    });
    put('pngs/README.txt', 'not an image');
    const { dataset: ds, info } = importData('pngs', {}, dir);
    expect(ds).toMatchObject({ kind: 'image', shape: [size, size], classes: 3, classNames: classes });
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([11, 2, 2]);
    expect(allRows(ds)).toEqual(expectRows(expectedRows, expectedLabels));
    expect(info.notes.join(' ')).toContain('ignored 1 file(s) that are not images: README.txt');
    // colour kept with { color: 'rgb' }
    const rgb = load('pngs', { color: 'rgb' });
    expect(rgb.shape).toEqual([size, size, 3]);
  });

  it('1-bit gray and a colour palette; RGB kept as RGB', () => {
    const bits = Array.from({ length: 12 }, (_, i) => Array.from({ length: 16 }, (_, p) => ((i >> (p % 4)) & 1) ^ (p >> 3 & 1)));
    bits.forEach((b, i) => put(`bits/${String(i).padStart(2, '0')}.png`, writePng(4, 4, 0, 1, b, { filter: () => i % 5 })));
    const ds = load('bits');
    expect(ds).toMatchObject({ binary: true, shape: [4, 4] });
    expect(ds.classes).toBeUndefined();
    expect(allRows(ds)).toEqual(expectRows(bits, null));
    const pal = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
    for (let i = 0; i < 10; i++) put(`pal/${i}.png`, writePng(3, 2, 3, 8, [0, 1, 2, i % 3, (i + 1) % 3, 0], { palette: pal }));
    const c = load('pal', { color: 'rgb' });
    expect(c.shape).toEqual([2, 3, 3]);
    expect(allRows(c)).toEqual(expectRows(Array.from({ length: 10 }, (_, i) => [0, 1, 2, i % 3, (i + 1) % 3, 0].flatMap((k) => pal[k].map((v) => v / 255))), null));
  });

  it('JPEG (jpeg-js encoder) beside PNG, labelled by folder', () => {
    for (const [ci, c] of ['a', 'b'].entries()) {
      for (let i = 0; i < 6; i++) {
        const rgba = Buffer.alloc(8 * 8 * 4);
        for (let p = 0; p < 64; p++) rgba.fill(ci === 0 ? 40 : 210, 4 * p, 4 * p + 3), (rgba[4 * p + 3] = 255);
        put(`jpgs/${c}/${i}.jpg`, encodeJpeg({ width: 8, height: 8, data: rgba }, 95).data);
      }
    }
    const ds = load('jpgs');
    expect(ds).toMatchObject({ kind: 'image', shape: [8, 8], classes: 2, classNames: ['a', 'b'] });
    for (const s of [ds.train, ds.val, ds.test]) {
      for (let i = 0; i < s.n; i++) {
        const target = s.y![i] === 0 ? 40 / 255 : 210 / 255;
        for (let p = 0; p < 64; p++) expect(Math.abs(s.x[i * 64 + p] - target)).toBeLessThan(4 / 255);
      }
    }
  });

  it('an image of another size is named with both sizes; a PNG named .jpg is read and reported', () => {
    for (let i = 0; i < 10; i++) put(`mixed/${i}.png`, writePng(4, 4, 0, 8, new Array(16).fill(i)));
    put('mixed/7.png', writePng(5, 4, 0, 8, new Array(20).fill(1)));
    expect(() => load('mixed')).toThrow('lab.data.load: mixed/7.png: this image is 5×4 pixels but 0.png (the first) is 4×4: every image must have one size');
    for (let i = 0; i < 10; i++) put(`liar/${i}.${i === 3 ? 'jpg' : 'png'}`, writePng(2, 2, 0, 8, [i, i, i, i]));
    const { info } = importData('liar', {}, dir);
    expect(info.notes.join(' ')).toContain('liar/3.jpg: the name says JPEG but the content is PNG');
    // interlaced PNGs are refused by name (IHDR's last byte, its CRC made right again)
    const b = writePng(2, 2, 0, 8, [1, 2, 3, 4]);
    b[8 + 8 + 12] = 1;
    b.writeUInt32BE((crc32(b.subarray(12, 29)) ^ 0xffffffff) >>> 0, 29);
    for (let i = 0; i < 10; i++) put(`interlaced/${i}.png`, i === 4 ? b : writePng(2, 2, 0, 8, [1, 2, 3, 4]));
    expect(() => load('interlaced')).toThrow('lab.data.load: interlaced/4.png: interlaced (Adam7) PNGs are not supported: save the image without interlacing');
  });
});

describe('CSV, text and WAV', () => {
  it('CSV with a header and a string label column; without a header', () => {
    const pts = Array.from({ length: 20 }, (_, i) => [i / 4, -i, (i * i) % 7]);
    const names = ['north', 'south', 'east'];
    const lab = pts.map((_, i) => names[i % 3]);
    put('table.csv', `a,b,kind,c\n${pts.map((p, i) => `${p[0]},${p[1]},"${lab[i]}",${p[2]}`).join('\n')}\n`);
    const ds = load('table.csv', { label: 'kind' });
    expect(ds).toMatchObject({ kind: 'points', shape: [3], classes: 3, classNames: ['east', 'north', 'south'] });
    expect(allRows(ds)).toEqual(expectRows(pts, lab.map((l) => ['east', 'north', 'south'].indexOf(l))));
    expect(ds.settings.columns).toEqual(['a', 'b', 'c']);
    put('plain.csv', pts.map((p) => p.join(',')).join('\r\n'));
    const p = load('plain.csv');
    expect(p.settings.header).toBe(false);
    expect(allRows(p)).toEqual(expectRows(pts, null));
    // numeric labels by index, semicolons
    put('semi.csv', pts.map((q, i) => `${i % 2};${q.join(';')}`).join('\n'));
    expect(load('semi.csv', { label: 0 })).toMatchObject({ classes: 2, classNames: ['0', '1'], shape: [3] });
  });

  it('a non-numeric cell names the file, row and column', () => {
    put('bad.csv', 'x,y\n1,2\n3,4\n5,oops\n');
    expect(() => load('bad.csv')).toThrow("lab.data.load: bad.csv: row 4, column 2 (y): 'oops' is not a number");
  });

  it('text: rows of characters over the text vocabulary', () => {
    const text = 'hello world\n'.repeat(40);
    put('corpus.txt', text);
    const ds = load('corpus.txt', { length: 16 });
    const n = Math.floor(text.length / 16);
    expect(ds).toMatchObject({ kind: 'sequence', shape: [16], levels: 96, vocab: TEXT_VOCAB });
    const rows = Array.from({ length: n }, (_, i) => [...text.slice(16 * i, 16 * i + 16)].map((ch) => (ch === '\n' ? 0 : ch.charCodeAt(0) - 31)));
    expect(allRows(ds)).toEqual(expectRows(rows, null));
    put('latin1.txt', Buffer.from([104, 105, 0xe9, 0xff, 10]));
    expect(() => load('latin1.txt')).toThrow(/latin1\.txt: not valid UTF-8 text \(a bad byte near offset 2\)/);
  });

  it('WAV: mu-law windows; a folder of WAVs', () => {
    const sr = 8000;
    const s = Float32Array.from({ length: 64 * 12 }, (_, t) => Math.sin(t / 5) * 0.5);
    put('sound.wav', encodeWav(s, sr));
    const ds = load('sound.wav', { length: 64 });
    expect(ds).toMatchObject({ kind: 'sequence', shape: [64], levels: 256, sampleRate: sr });
    const q = Array.from(s, (v) => Math.round(Math.max(-1, Math.min(1, v)) * 32767) / 32768);
    const rows = Array.from({ length: 12 }, (_, i) => q.slice(64 * i, 64 * i + 64).map(muLawEncode));
    expect(allRows(ds)).toEqual(expectRows(rows, null));
    put('wavs/a.wav', encodeWav(s, sr));
    put('wavs/b.wav', encodeWav(s.subarray(0, 320), sr));
    expect(load('wavs', { length: 64 }).train.n + load('wavs', { length: 64 }).val.n + load('wavs', { length: 64 }).test.n).toBe(17);
    put('wavs2/a.wav', encodeWav(s, sr));
    put('wavs2/b.wav', encodeWav(s, 16000));
    expect(() => load('wavs2', { length: 64 })).toThrow('lab.data.load: wavs2/b.wav: 16000 Hz, but wavs2/a.wav is 8000 Hz (resample them to one rate)');
  });
});

describe('fingerprint', () => {
  it('same bytes → same fingerprint (any path); one changed byte or another setting → another', () => {
    const px = Array.from({ length: 12 * 4 }, (_, i) => i % 256);
    put('fp/a.idx', writeIdx('u1', [12, 2, 2], px));
    put('fp/copy.idx', writeIdx('u1', [12, 2, 2], px));
    const a = load('fp/a.idx');
    expect(load('fp/copy.idx').fingerprint).toBe(a.fingerprint);
    expect(loadData(path.join(dir, 'fp/a.idx')).fingerprint).toBe(a.fingerprint);
    const changed = writeIdx('u1', [12, 2, 2], px);
    changed[changed.length - 1] ^= 1;
    put('fp/changed.idx', changed);
    expect(load('fp/changed.idx').fingerprint).not.toBe(a.fingerprint);
    expect(load('fp/a.idx', { binarize: 'threshold' }).fingerprint).not.toBe(a.fingerprint);
    expect(load('fp/a.idx', { splitSeed: 1 }).fingerprint).not.toBe(a.fingerprint);
    // folders: a changed byte in any file, or a renamed class, changes it
    for (const c of ['x', 'y']) for (let i = 0; i < 5; i++) put(`fpdir/${c}/${i}.png`, writePng(2, 2, 0, 8, [i, 2, 3, 4]));
    const f1 = load('fpdir').fingerprint;
    expect(load('fpdir').fingerprint).toBe(f1);
    put('fpdir/y/4.png', writePng(2, 2, 0, 8, [4, 2, 3, 5]));
    expect(load('fpdir').fingerprint).not.toBe(f1);
  });

  it('inspect writes the preview under artifacts/imports/<fingerprint>/ and reports the same fingerprint as load', () => {
    const art = path.join(dir, '.latentlab', 'artifacts');
    const s = inspectData('pngs', {}, dir, art);
    expect(s.fingerprint).toBe(load('pngs').fingerprint);
    expect(s).toMatchObject({ kind: 'image', shape: [5, 5], rows: { train: 11, val: 2, test: 2 }, classes: 3, classNames: ['cat', 'dog', 'emu'], files: 15 });
    expect(s.preview).toBe(`imports/${s.fingerprint}/preview.png`);
    const png = fs.readFileSync(path.join(art, s.preview!));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(fs.readdirSync(path.dirname(path.join(art, s.preview!)))).toEqual(['preview.png']);
    expect(s.range.min).toBeGreaterThanOrEqual(0);
    expect(s.range.max).toBeLessThanOrEqual(1);
    const t = inspectData('corpus.txt', { length: 16 }, dir, art);
    expect(t.sample?.startsWith('hello world\nhello world')).toBe(true);
    expect(inspectData('table.csv', { label: 'kind' }, dir, art).preview).toMatch(/preview\.png$/);
    expect(inspectData('sound.wav', { length: 64 }, dir, art).preview).toMatch(/preview\.png$/);
  });
});

/** recomputes the CRC of every PNG chunk (stops at a length that runs past the end) */
function fixPngCrcs(b: Buffer): Buffer {
  for (let o = 8; o + 12 <= b.length; ) {
    const len = b.readUInt32BE(o);
    if (o + 12 + len > b.length) break;
    b.writeUInt32BE((crc32(b.subarray(o + 4, o + 8 + len)) ^ 0xffffffff) >>> 0, o + 8 + len);
    o += 12 + len;
  }
  return b;
}

describe('wrong types and fuzzed files', () => {
  it('a PNG renamed .npy, an NPY renamed .idx, a missing file', () => {
    put('fake.npy', writePng(2, 2, 0, 8, [1, 2, 3, 4]));
    expect(() => load('fake.npy')).toThrow('lab.data.load: fake.npy: the name says NPY but the content is PNG image (read as PNG image); this is a single PNG image, not a dataset');
    put('liar.idx', writeNpy('f4', [10, 2], new Array(20).fill(0.5)));
    const { info } = importData('liar.idx', {}, dir);
    expect(info.notes[0]).toBe('liar.idx: the name says IDX but the content is NPY (read as NPY)');
    put('garbage.npy', Buffer.from('hello there, not numpy'));
    expect(() => load('garbage.npy')).toThrow("lab.data.load: garbage.npy: not a valid NPY file: its first bytes (68 65 6c 6c 6f 20 74 68) are not NPY's signature");
    expect(() => load('nope/missing.idx')).toThrow(/nope\/missing\.idx: no such file or folder/);
    expect(() => load('pngs', { kind: 'bogus' })).toThrow("lab.data.load: kind must be one of \"image\", \"points\", \"sequence\" (got \"bogus\")");
  });

  it('truncations and random byte flips of every format load or fail naming the file', () => {
    const rng = seeded(8);
    const samples: { name: string; bytes: Buffer; folder?: boolean }[] = [
      { name: 'f.idx', bytes: writeIdx('u1', [12, 3, 3], Array.from({ length: 108 }, (_, i) => i)) },
      { name: 'f.idx.gz', bytes: writeIdx('f4', [12, 3], Array.from({ length: 36 }, (_, i) => i / 3), true) },
      { name: 'f.npy', bytes: writeNpy('i2', [12, 3], Array.from({ length: 36 }, (_, i) => i - 9)) },
      { name: 'f.npz', bytes: writeZip([{ name: 'x.npy', data: writeNpy('u1', [12, 2, 2], new Array(48).fill(7)) }, { name: 'y.npy', data: writeNpy('u1', [12], new Array(12).fill(1)) }], true) },
      { name: 'g.npz', bytes: writeZip([{ name: 'x.npy', data: writeNpy('f8', [12, 2], new Array(24).fill(0.25)) }], false) },
      { name: 'f.png', bytes: writePng(6, 5, 6, 8, Array.from({ length: 120 }, (_, i) => (i * 37) % 256), { filter: (y) => y % 5 }), folder: true },
      { name: 'f.jpg', bytes: encodeJpeg({ width: 8, height: 8, data: Buffer.alloc(256, 128) }, 80).data, folder: true },
      { name: 'f.csv', bytes: Buffer.from('a,b\n' + Array.from({ length: 12 }, (_, i) => `${i},${i * 2}`).join('\n')) },
      { name: 'f.txt', bytes: Buffer.from('some text to learn from\n'.repeat(60)) },
      { name: 'f.wav', bytes: encodeWav(Float32Array.from({ length: 3000 }, (_, t) => Math.sin(t / 3)), 8000) },
    ];
    let cases = 0;
    let loaded = 0;
    const rss0 = process.memoryUsage().rss;
    let worst = 0;
    for (const s of samples) {
      const variants: Buffer[] = [];
      const L = s.bytes.length;
      const cuts = new Set<number>([0, 1, 2, 3, 4, 7, 8, 9, 10, 12, 16, 20, 24, 32, 33, 44, 45, 64, L - 1, L - 2, L - 4, L - 22]);
      for (let i = 0; i < 30; i++) cuts.add(Math.floor(rng() * L));
      for (const c of cuts) if (c >= 0 && c < L) variants.push(s.bytes.subarray(0, c));
      for (let i = 0; i < 60; i++) {
        const b = Buffer.from(s.bytes);
        const flips = 1 + Math.floor(rng() * 3);
        for (let k = 0; k < flips; k++) b[Math.floor(rng() * L)] = Math.floor(rng() * 256);
        variants.push(b);
      }
      if (s.name === 'f.png') {
        // flips that keep every chunk's CRC right, so the damage reaches inflate and the row filters
        for (let i = 0; i < 80; i++) {
          const b = Buffer.from(s.bytes);
          const at = 33 + Math.floor(rng() * (L - 45));
          b[at] = Math.floor(rng() * 256);
          variants.push(fixPngCrcs(b));
        }
        // the scanlines themselves damaged (a filter byte out of range, odd values), validly compressed
        for (let f = 5; f < 8; f++) variants.push(writePng(6, 5, 6, 8, Array.from({ length: 120 }, (_, i) => (i * 37) % 256), { filter: (y) => (y === 2 ? f : 0) }));
      }
      variants.forEach((v, i) => {
        const rel = s.folder ? `fuzz/${s.name}-${i}` : `fuzz/${i}-${s.name}`;
        const target = s.folder ? rel : rel;
        if (s.folder) {
          // a folder of 10 good images and the damaged one
          for (let j = 0; j < 10; j++) put(`${rel}/ok${j}${path.extname(s.name)}`, s.bytes);
          put(`${rel}/bad${path.extname(s.name)}`, v);
        } else put(rel, v);
        const t0 = Date.now();
        cases++;
        try {
          const ds = loadData(target, {}, dir);
          expect(ds.train.n + ds.val.n + ds.test.n).toBeGreaterThanOrEqual(10);
          loaded++;
        } catch (e) {
          if (!(e instanceof Error) || !e.message.startsWith(`lab.data.load: ${target}`)) throw new Error(`case ${target}: the error does not name the file: ${String((e as Error)?.stack ?? e)}`);
        }
        worst = Math.max(worst, Date.now() - t0);
        expect(process.memoryUsage().rss - rss0).toBeLessThan(1.5e9);
      });
    }
    console.log(`fuzz: ${cases} damaged files over ${samples.length} formats, ${loaded} still loaded, every other failed naming its file; slowest case ${worst} ms`);
    expect(cases).toBeGreaterThan(800);
    expect(worst).toBeLessThan(5000);
  });

  it('nothing is written by a failed load, and ImportError carries the file', () => {
    try {
      load('bad.csv');
      throw new Error('expected a failure');
    } catch (e) {
      expect(e).toBeInstanceOf(ImportError);
      expect((e as ImportError).file).toBe('bad.csv');
    }
  });
});

describe('scale', () => {
  it('an MNIST-sized IDX pair (60,000 × 28×28, gzipped) loads whole', () => {
    const n = 60000;
    const px = new Uint8Array(n * 784);
    // MNIST-like: most pixels 0, a quarter of them seeded random values (so gzip has real work)
    const rnd = seeded(60000);
    for (let i = 0; i < px.length; i++) px[i] = rnd() < 0.25 ? Math.floor(rnd() * 256) : 0;
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    put('big/train-images-idx3-ubyte.gz', writeIdx('u1', [n, 28, 28], px, true));
    put('big/train-labels-idx1-ubyte.gz', writeIdx('u1', [n], labels, true));
    const t0 = performance.now();
    const ds = load('big/train-images-idx3-ubyte.gz');
    const ms = performance.now() - t0;
    console.log(`60,000-image IDX pair (gzipped, ${(fs.statSync(path.join(dir, 'big/train-images-idx3-ubyte.gz')).size / 1e6).toFixed(1)} MB): loaded in ${ms.toFixed(0)} ms`);
    expect(ds).toMatchObject({ kind: 'image', shape: [28, 28], classes: 10 });
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([48000, 6000, 6000]);
    // a spot check: the first training row is some original image, with its label
    const row = ds.train.x.subarray(0, 784);
    const same = (i: number) => px.subarray(i * 784, (i + 1) * 784).every((v, p) => Math.fround(v / 255) === row[p]);
    const src = Array.from({ length: n }, (_, i) => i).find(same);
    expect(src).toBeDefined();
    expect(ds.train.y![0]).toBe(labels[src!]);
    expect(ms).toBeLessThan(60_000);
  });
});
