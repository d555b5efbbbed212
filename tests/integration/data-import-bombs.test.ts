// Decompression bombs: files of a few hundred KiB to 3 MiB that unpack to hundreds
// of megabytes or to gigabytes (a gzip of 3 GiB of zeros, IDX and NPY headers that
// promise half a gigabyte or lie, an NPZ whose directory lies, a PNG whose IHDR asks
// for 8192×8192 16-bit RGBA). They are built here as real files without holding what
// they unpack to: deflate output after a full flush does not depend on what came
// before, so one compressed 16 MiB run of a byte, repeated, is a valid stream of any
// length. Each must be refused with a message naming the file, with bounded work
// (memory growth, not wall-clock, is asserted), through lab.data.load, the Import
// dialog's inspection, and the built serve host, whose own memory must not move.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants, crc32, createDeflateRaw } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { UNPACK_CEILING, UNPACK_FLOOR, unpackBudget } from '../../src/engine/data/import/budget';
import { importData, loadData } from '../../src/engine/data/import/index';
import { inspectForUi } from '../../src/main/services/data-inspect';
import { seeded, writeIdx, writeNpy } from '../helpers/data-import-writers';
import { startServeProcess } from '../helpers/serve-process';
import { skipWhen } from '../helpers/skip';

const MiB = 2 ** 20;
const RUN = 16 * MiB;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-bombs-'));
  fs.mkdirSync(path.join(dir, 'bombs'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const put = (rel: string, bytes: Buffer): string => {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes);
  return rel;
};

/**
 * A raw deflate stream of `prefix` followed by `n` bytes of `fill`, and the CRC-32 of
 * what it unpacks to. Memory: one 16 MiB run and the compressed output.
 */
async function deflateRun(prefix: Buffer, fill: number, n: number): Promise<{ raw: Buffer; crc: number; size: number }> {
  const d = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const take = () => Buffer.concat(out.splice(0));
  const flushed = () => new Promise<void>((r) => d.flush(constants.Z_FULL_FLUSH, () => r()));
  d.write(prefix);
  await flushed();
  const head = take();
  const run = Buffer.alloc(RUN, fill);
  const runs = Math.floor(n / RUN);
  let one = Buffer.alloc(0);
  if (runs > 0) {
    d.write(run);
    await flushed();
    one = take();
  }
  const rest = n - runs * RUN;
  await new Promise<void>((r) => d.end(rest > 0 ? run.subarray(0, rest) : undefined, () => r()));
  await new Promise<void>((r) => (d.readableEnded ? r() : d.once('end', () => r())));
  let crc = crc32(prefix);
  for (let i = 0; i < runs; i++) crc = crc32(run, crc);
  if (rest > 0) crc = crc32(run.subarray(0, rest), crc);
  return { raw: Buffer.concat([head, ...new Array<Buffer>(runs).fill(one), take()]), crc, size: prefix.length + n };
}

/** a gzip file of prefix + n × fill; `isize` overrides the trailer's size (a lie) */
async function gzipRun(prefix: Buffer, fill: number, n: number, isize?: number): Promise<Buffer> {
  const d = await deflateRun(prefix, fill, n);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(d.crc, 0);
  trailer.writeUInt32LE((isize ?? d.size) % 2 ** 32, 4);
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]), d.raw, trailer]);
}

/** an NPZ of one deflated entry; `cd` / `local`: the sizes its central directory / local header claim */
function zipOne(name: string, d: { raw: Buffer; crc: number; size: number }, claims: { cd?: number; local?: number } = {}): Buffer {
  const n = Buffer.from(name);
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0);
  lh.writeUInt16LE(20, 4);
  lh.writeUInt16LE(8, 8);
  lh.writeUInt32LE(d.crc, 14);
  lh.writeUInt32LE(d.raw.length, 18);
  lh.writeUInt32LE(claims.local ?? d.size, 22);
  lh.writeUInt16LE(n.length, 26);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0);
  ch.writeUInt16LE(20, 4);
  ch.writeUInt16LE(20, 6);
  ch.writeUInt16LE(8, 10);
  ch.writeUInt32LE(d.crc, 16);
  ch.writeUInt32LE(d.raw.length, 20);
  ch.writeUInt32LE(claims.cd ?? d.size, 24);
  ch.writeUInt16LE(n.length, 28);
  const cdOffset = 30 + n.length + d.raw.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + n.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([lh, n, d.raw, ch, n, end]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** a w×h 16-bit RGBA PNG, every row filter 0 and every sample 0 */
async function blackPng16(w: number, h: number): Promise<Buffer> {
  const n = h * (w * 8 + 1);
  const d = await deflateRun(Buffer.alloc(0), 0, n);
  // Adler-32 of n zero bytes: s1 stays 1, s2 adds s1 once a byte
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((n % 65521) << 16) | 1) >>> 0, 0);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 16;
  ihdr[9] = 6;
  const idat = Buffer.concat([Buffer.from([0x78, 0xda]), d.raw, adler]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

interface Cost {
  message: string;
  ms: number;
  /** growth of RSS, of the process's peak RSS (0 while under an earlier peak) and of ArrayBuffer memory, bytes */
  rss: number;
  peak: number;
  arrayBuffers: number;
}

function cost(f: () => unknown): Cost {
  const m0 = process.memoryUsage();
  const peak0 = process.resourceUsage().maxRSS * 1024;
  const t = performance.now();
  let message = '(no error)';
  try {
    f();
  } catch (e) {
    message = (e as Error).message;
  }
  const ms = performance.now() - t;
  const m1 = process.memoryUsage();
  return { message, ms, rss: m1.rss - m0.rss, peak: process.resourceUsage().maxRSS * 1024 - peak0, arrayBuffers: m1.arrayBuffers - m0.arrayBuffers };
}

const costs: Record<string, Cost> = {};
const LIMIT = 300 * MiB;
const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;

function expectBounded(name: string, c: Cost): void {
  costs[name] = c;
  expect(c.rss, `${name}: RSS grew by ${mb(c.rss)}`).toBeLessThan(LIMIT);
  expect(c.peak, `${name}: the peak RSS grew by ${mb(c.peak)}`).toBeLessThan(LIMIT);
  expect(c.arrayBuffers, `${name}: ArrayBuffers grew by ${mb(c.arrayBuffers)}`).toBeLessThan(LIMIT);
}

const load = (rel: string) => () => loadData(rel, {}, dir);

describe('decompression bombs are refused with bounded work', () => {
  let npzHonest = '';
  let gzZeros = '';
  let gzLies = '';

  beforeAll(async () => {
    // 3 GiB of zeros in ~3 MiB, honest trailer
    gzZeros = put('bombs/zeros-images-idx3-ubyte.gz', await gzipRun(Buffer.alloc(0), 0, 3 * 1024 * MiB));
    // 'a' × 200 MiB (~200 KiB) whose trailer claims 4 KiB
    gzLies = put('bombs/lies.txt.gz', await gzipRun(Buffer.alloc(0), 0x61, 200 * MiB, 4096));
    const npy = writeNpy('u1', [500_000, 32, 32], []);
    npzHonest = put('bombs/honest.npz', zipOne('x.npy', await deflateRun(npy, 0, 512_000_000)));
  }, 120_000);

  it('a gzip of 3 GiB of zeros: refused by its trailer before unpacking', () => {
    expect(fs.statSync(path.join(dir, gzZeros)).size).toBeLessThan(4 * MiB);
    const c = cost(load(gzZeros));
    expect(c.message).toMatch(/^lab\.data\.load: bombs\/zeros-images-idx3-ubyte\.gz: the gzip trailer says the stream unpacks to 3\.0 GiB \(1,0\d\d:1 to the file's 3\.\d MiB\); the limit for this file is \S+ \S+ \(256 × its size, at least 64\.0 MiB, at most 1\/16 of this machine's .* of memory\): refused before unpacking\. If the data really is this large, unpack the file first/);
    expectBounded('gzip, 3 GiB of zeros', c);
  });

  it('a gzipped IDX whose header promises 500,000 × 32×32 bytes of zeros: refused by the header', async () => {
    const rel = put('bombs/big-images-idx3-ubyte.gz', await gzipRun(writeIdx('u1', [500_000, 32, 32], []), 0, 512_000_000));
    const c = cost(load(rel));
    expect(c.message).toMatch(/^lab\.data\.load: bombs\/big-images-idx3-ubyte\.gz: the gzip stream's IDX header promises 488 MiB \(1,0\d\d:1 to the file's \d+ KiB\); the limit for this file is .*: refused before unpacking/);
    expectBounded('gzip IDX, honest 488 MiB header', c);
  });

  it('a gzipped IDX whose header promises 10 × 28×28 but 512 MiB of zeros follow: unpacking stops past the promise', async () => {
    const rel = put('bombs/liar-images-idx3-ubyte.gz', await gzipRun(writeIdx('u1', [10, 28, 28], []), 0, 512 * MiB));
    const c = cost(load(rel));
    expect(c.message).toBe('lab.data.load: bombs/liar-images-idx3-ubyte.gz: the gzip stream unpacks to more than the 7,856 bytes its IDX header promises (unpacking stopped at 73,392)');
    expectBounded('gzip IDX, header lies (7.7 KiB)', c);
  });

  it('a gzipped text whose trailer lies: unpacking stops at the budget', () => {
    const size = fs.statSync(path.join(dir, gzLies)).size;
    const c = cost(load(gzLies));
    const limit = unpackBudget(gzLies, size).limit;
    expect(limit).toBe(UNPACK_FLOOR); // a ~0.5 MiB file: 256 × its size is under the floor
    expect(c.message).toMatch(/^lab\.data\.load: bombs\/lies\.txt\.gz: the gzip stream unpacks to more than 64\.0 MiB \(over \d+:1 to the file's \d+ KiB\); .*: unpacking stopped there/);
    expectBounded('gzip text, trailer lies', c);
  });

  it('an NPZ whose entry x.npy (directory honest) unpacks to 488 MiB: refused before unpacking', () => {
    const c = cost(load(npzHonest));
    expect(c.message).toMatch(/^lab\.data\.load: bombs\/honest\.npz: the entry x\.npy would unpack to 488 MiB \(1,0\d\d:1 to the file's \d+ KiB\); the limit for this file is .*: refused before unpacking\. If the data really is this large, save it with np\.savez/);
    expectBounded('NPZ, honest 488 MiB entry', c);
  });

  it('an NPZ whose central directory lies about the size: refused by the local header, or by the NPY header inside', async () => {
    const d = await deflateRun(writeNpy('u1', [500_000, 32, 32], []), 0, 512_000_000);
    // the directory says 4 KiB, the local header the truth
    const a = put('bombs/cd-lies.npz', zipOne('x.npy', d, { cd: 4096 }));
    const ca = cost(load(a));
    expect(ca.message).toBe(`lab.data.load: bombs/cd-lies.npz (entry x.npy): malformed zip: the local header says ${d.raw.length.toLocaleString('en-US')} bytes packed, 512,000,128 unpacked; the central directory says ${d.raw.length.toLocaleString('en-US')} and 4,096`);
    expectBounded('NPZ, directory lies', ca);
    // both say 4 KiB: the entry's own NPY header gives it away before it is unpacked
    const b = put('bombs/both-lie.npz', zipOne('x.npy', d, { cd: 4096, local: 4096 }));
    const cb = cost(load(b));
    expect(cb.message).toMatch(/^lab\.data\.load: bombs\/both-lie\.npz: the NPY header of the entry x\.npy promises 488 MiB .*refused before unpacking/);
    expectBounded('NPZ, directory and local header lie', cb);
    // a small honest NPY header with 512 MB of zeros after it: unpacking stops at the directory's 4 KiB
    const e = await deflateRun(writeNpy('u1', [10, 2], []), 0, 512_000_000);
    const c = put('bombs/tail.npz', zipOne('x.npy', e, { cd: 4096, local: 4096 }));
    const cc = cost(load(c));
    expect(cc.message).toBe('lab.data.load: bombs/tail.npz (entry x.npy): corrupt zip: the entry\'s NPY header promises 148 bytes, the central directory says 4,096');
    expectBounded('NPZ, data beyond the NPY header', cc);
  });

  it('a folder holding a PNG whose IHDR asks for 8192×8192 16-bit RGBA (512 MiB unpacked): refused before unpacking', async () => {
    put('pngbomb/a/0.png', await blackPng16(8192, 8192));
    const c = cost(load('pngbomb'));
    expect(c.message).toMatch(/^lab\.data\.load: pngbomb\/a\/0\.png: the image data \(8192×8192 pixels, 64 bits each\) would unpack to 512 MiB \(1,0\d\d:1 to the file's \d+ KiB\); .*refused before unpacking\. An image this large is not a dataset's/);
    expectBounded('PNG, 8192×8192 RGBA16', c);
  });

  it("the Import dialog's inspection answers with the refusal", async () => {
    const artifacts = path.join(dir, 'artifacts');
    for (const rel of [npzHonest, gzZeros]) {
      const r = await inspectForUi(dir, artifacts, rel, {});
      expect(r.summary).toBeNull();
      expect(r.error).toContain(`lab.data.load: ${rel}: `);
      expect(r.error).toMatch(/refused before unpacking/);
    }
    // nothing half-imported: no preview was written
    expect(fs.existsSync(path.join(artifacts, 'imports'))).toBe(false);
  });

  it('what the costs were', () => {
    const rows = Object.entries(costs).map(([k, c]) => `  ${k.padEnd(38)} ${c.ms.toFixed(0).padStart(5)} ms  RSS ${mb(c.rss).padStart(8)}  peak ${mb(c.peak).padStart(8)}  ArrayBuffers ${mb(c.arrayBuffers).padStart(8)}`);
    console.log(`bombs refused:\n${rows.join('\n')}`);
    expect(Object.keys(costs).length).toBeGreaterThanOrEqual(8);
  });
});

describe('the budget', () => {
  it('is 256 × the file size, at least 64 MiB, at most 1/16 of memory and 2 GiB', () => {
    const GiB = 1024 * MiB;
    expect(unpackBudget('f', MiB, 16 * GiB).limit).toBe(256 * MiB);
    expect(unpackBudget('f', 100, 16 * GiB).limit).toBe(UNPACK_FLOOR);
    expect(unpackBudget('f', 10 * MiB, 16 * GiB).limit).toBe(GiB);
    expect(unpackBudget('f', 10 * MiB, 4 * GiB).limit).toBe(256 * MiB);
    expect(unpackBudget('f', 100 * MiB, 256 * GiB).limit).toBe(UNPACK_CEILING);
  });

  it('still loads legitimate, highly compressible data: sparse binary images, gzipped', () => {
    // 20,000 binary 28×28 images, 40 seeded pixels set in each
    const n = 20_000;
    const rng = seeded(3);
    const px = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) for (let k = 0; k < 40; k++) px[i * 784 + Math.floor(rng() * 784)] = 1;
    const gz = writeIdx('u1', [n, 28, 28], px, true);
    put('legit/train-images-idx3-ubyte.gz', gz);
    const { dataset, info } = importData('legit/train-images-idx3-ubyte.gz', { labels: false }, dir);
    expect(dataset.train.n + dataset.val.n + dataset.test.n).toBe(n);
    expect(info.bytes).toBe(gz.length);
    console.log(`legit sparse binary IDX: ${(gz.length / MiB).toFixed(1)} MiB gzipped, ${(px.length / gz.length).toFixed(0)}:1, loads`);
  });
});

describe('the built serve host', () => {
  let proc: ChildProcess | null = null;
  afterAll(() => {
    proc?.kill('SIGKILL');
  });

  /** VmRSS and VmHWM (peak) of a process, bytes */
  const memOf = (pid: number) => {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  };

  it('inspects bombs in a child process: the answer is the refusal, and the host keeps its memory', async (ctx) => {
    skipWhen(ctx, process.platform === 'linux' ? null : "the host's memory is read from /proc/<pid>/status: Linux only");
    const ws0 = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-bombs-host-'));
    try {
      for (const f of ['zeros-images-idx3-ubyte.gz', 'lies.txt.gz', 'honest.npz']) fs.copyFileSync(path.join(dir, 'bombs', f), path.join(ws0, f));
      const { proc: p, url: u } = await startServeProcess(ws0);
      proc = p;
      const ws = new WebSocket(`ws://${u.host}/ws?token=${u.searchParams.get('token')}`);
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      let id = 0;
      const ask = (name: string, input: unknown) =>
        new Promise<{ ok: boolean; output?: { summary: unknown; error: string | null }; error?: string }>((resolve) => {
          const mine = ++id;
          const on = (data: WebSocket.RawData) => {
            const msg = JSON.parse(data.toString());
            if (msg.id === mine) {
              ws.off('message', on);
              resolve(msg);
            }
          };
          ws.on('message', on);
          ws.send(JSON.stringify({ id: mine, name, input }));
        });
      await ask('runs.list', {});
      const before = memOf(p.pid!);
      const rows: string[] = [];
      for (const f of ['zeros-images-idx3-ubyte.gz', 'lies.txt.gz', 'honest.npz']) {
        const t = performance.now();
        const r = await ask('data.inspect', { path: f, options: {} });
        const ms = performance.now() - t;
        expect(r.ok, r.error).toBe(true);
        expect(r.output!.summary).toBeNull();
        expect(r.output!.error).toContain(`lab.data.load: ${f}: `);
        const m = memOf(p.pid!);
        rows.push(`  ${f.padEnd(28)} ${ms.toFixed(0).padStart(5)} ms  host RSS ${mb(m.rss - before.rss).padStart(7)}  host peak ${mb(m.hwm - before.hwm).padStart(7)}`);
        expect(m.rss - before.rss, `${f}: the host's RSS grew`).toBeLessThan(100 * MiB);
        expect(m.hwm - before.hwm, `${f}: the host's peak RSS grew`).toBeLessThan(100 * MiB);
      }
      console.log(`serve host, data.inspect of bombs (host RSS before: ${mb(before.rss)}):\n${rows.join('\n')}`);
      ws.close();
    } finally {
      proc?.kill('SIGKILL');
      fs.rmSync(ws0, { recursive: true, force: true });
    }
  }, 300_000);
});
