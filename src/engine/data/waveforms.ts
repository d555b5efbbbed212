// Waveform data for WaveNet-style models: 8-bit mu-law codes (symbols 0..255) in
// windows of `length` samples. Two sources: a seeded synthetic set (sums of a few
// decaying sinusoids with a little noise, so a model has pitch and envelope to learn)
// and WAV files (PCM 8/16/24/32-bit or 32-bit float, mixed down to mono).
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../util/rng';
import { fingerprint, splitRows } from './split';
import type { Dataset } from './types';

export const MU = 255;

/** mu-law companding of x in [-1, 1] to an integer code in [0, 255] */
export function muLawEncode(x: number): number {
  const c = Math.max(-1, Math.min(1, x));
  const y = (Math.sign(c) * Math.log1p(MU * Math.abs(c))) / Math.log1p(MU);
  return Math.min(MU, Math.max(0, Math.floor(((y + 1) / 2) * MU + 0.5)));
}

/** the amplitude in [-1, 1] a code stands for (the inverse of muLawEncode up to quantization) */
export function muLawDecode(code: number): number {
  const y = (2 * code) / MU - 1;
  return (Math.sign(y) * Math.expm1(Math.abs(y) * Math.log1p(MU))) / MU;
}

export type WaveformOptions = LatentLab.WaveformOptions;

const cache = new Map<string, Dataset>();

/** A seeded synthetic audio set: each window is 1 to 3 decaying sinusoids (110-880 Hz) plus noise. */
export function waveforms(opts: WaveformOptions = {}): Dataset {
  const n = wholeAtLeast(opts.n ?? 4000, 10, 'n');
  const length = wholeAtLeast(opts.length ?? 256, 8, 'length');
  const sampleRate = wholeAtLeast(opts.sampleRate ?? 8000, 100, 'sampleRate');
  const seed = Math.floor(opts.seed ?? 0);
  const key = JSON.stringify(['waveforms', n, length, sampleRate, seed]);
  const hit = cache.get(key);
  if (hit) return hit;
  const rng = mulberry32(seed);
  const all = new Float32Array(n * length);
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(rng.next() * 3);
    const tones = Array.from({ length: k }, () => ({
      f: 110 * Math.pow(2, 3 * rng.next()), // three octaves above A2
      a: (0.2 + 0.6 * rng.next()) / k,
      phase: 2 * Math.PI * rng.next(),
      decay: 2 + 20 * rng.next(), // per second
    }));
    for (let t = 0; t < length; t++) {
      const s = t / sampleRate;
      let v = 0.01 * rng.normal();
      for (const { f, a, phase, decay } of tones) v += a * Math.exp(-decay * s) * Math.sin(2 * Math.PI * f * s + phase);
      all[i * length + t] = muLawEncode(v);
    }
  }
  const settings = { n, length, sampleRate, seed, encoding: 'mu-law 8-bit' };
  return remember(key, sequenceDataset('waveforms', all, n, length, 256, settings, seed + 1, { sampleRate }));
}

export type WavOptions = LatentLab.WavOptions;

/** Decoded audio: mono samples in [-1, 1]. */
export interface Audio {
  sampleRate: number;
  channels: number;
  samples: Float32Array;
}

/** Parses a RIFF/WAVE file: PCM 8/16/24/32-bit integers or 32/64-bit floats, mixed to mono. */
export function parseWav(buf: Uint8Array, name = 'file'): Audio {
  const bad = (why: string) => new Error(`lab.data.wav: ${name} is not a WAV file this reader can use: ${why}`);
  if (buf.length < 12) throw bad('it is shorter than a RIFF header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => String.fromCharCode(buf[o], buf[o + 1], buf[o + 2], buf[o + 3]);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw bad("it does not start with 'RIFF....WAVE'");
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let data: Uint8Array | null = null;
  for (let o = 12; o + 8 <= buf.length; ) {
    const id = tag(o);
    const size = dv.getUint32(o + 4, true);
    const body = o + 8;
    if (id === 'fmt ') {
      if (size < 16) throw bad('its fmt chunk is too short');
      let format = dv.getUint16(body, true);
      if (format === 0xfffe && size >= 40) format = dv.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE: the sub-format
      fmt = { format, channels: dv.getUint16(body + 2, true), rate: dv.getUint32(body + 4, true), bits: dv.getUint16(body + 14, true) };
    } else if (id === 'data') {
      data = buf.subarray(body, Math.min(buf.length, body + size));
    }
    o = body + size + (size & 1);
  }
  if (!fmt) throw bad('it has no fmt chunk');
  if (!data) throw bad('it has no data chunk');
  const { format, channels, rate, bits } = fmt;
  if (channels < 1) throw bad('it has no channels');
  const bytes = bits / 8;
  const ok = (format === 1 && [8, 16, 24, 32].includes(bits)) || (format === 3 && (bits === 32 || bits === 64));
  if (!ok) throw bad(`format ${format} with ${bits} bits per sample (PCM 8/16/24/32-bit and float 32/64-bit are read)`);
  const frames = Math.floor(data.length / (bytes * channels));
  const ddv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = (o: number): number => {
    if (format === 3) return bits === 32 ? ddv.getFloat32(o, true) : ddv.getFloat64(o, true);
    if (bits === 8) return (ddv.getUint8(o) - 128) / 128;
    if (bits === 16) return ddv.getInt16(o, true) / 32768;
    if (bits === 24) return (((ddv.getUint8(o + 2) << 24) | (ddv.getUint8(o + 1) << 16) | (ddv.getUint8(o) << 8)) >> 8) / 8388608;
    return ddv.getInt32(o, true) / 2147483648;
  };
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let v = 0;
    for (let c = 0; c < channels; c++) v += read((f * channels + c) * bytes);
    samples[f] = v / channels;
  }
  return { sampleRate: rate, channels, samples };
}

/** Writes mono 16-bit PCM WAV bytes (samples in [-1, 1]): for exporting generated audio. */
export function encodeWav(samples: Float32Array | number[], sampleRate: number): Buffer {
  const n = samples.length;
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + 2 * i);
  return buf;
}

/**
 * WAV files (a path, a folder of .wav files, or a list of paths) cut into windows of
 * `length` samples, mu-law encoded. Every file must have the same sample rate.
 */
export function wav(source: string | string[], opts: WavOptions = {}): Dataset {
  const length = wholeAtLeast(opts.length ?? 256, 8, 'length');
  const hop = wholeAtLeast(opts.hop ?? length, 1, 'hop');
  const list = Array.isArray(source) ? source : [source];
  if (list.length === 0) throw new Error('lab.data.wav: give a .wav file, a folder of them, or a list of paths');
  const files: string[] = [];
  for (const p of list) {
    if (typeof p !== 'string') throw new Error('lab.data.wav: paths must be strings');
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new Error(`lab.data.wav: ${p} does not exist`);
    }
    if (st.isDirectory()) {
      const inDir = fs.readdirSync(p).filter((f) => f.toLowerCase().endsWith('.wav')).sort();
      if (inDir.length === 0) throw new Error(`lab.data.wav: the folder ${p} holds no .wav files`);
      files.push(...inDir.map((f) => path.join(p, f)));
    } else files.push(p);
  }
  let rate = 0;
  const windows: Float32Array[] = [];
  const hashes: string[] = [];
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    const audio = parseWav(bytes, path.basename(file));
    if (rate && audio.sampleRate !== rate) throw new Error(`lab.data.wav: ${path.basename(file)} is ${audio.sampleRate} Hz but the others are ${rate} Hz (resample them to one rate)`);
    rate = audio.sampleRate;
    hashes.push(fingerprint([path.basename(file), bytes.length, bytes.subarray(0, 4096).toString('base64')]));
    for (let s = 0; s + length <= audio.samples.length; s += hop) {
      const w = new Float32Array(length);
      for (let t = 0; t < length; t++) w[t] = muLawEncode(audio.samples[s + t]);
      windows.push(w);
    }
  }
  if (windows.length < 10) throw new Error(`lab.data.wav: ${windows.length} windows of ${length} samples in ${files.length} file(s); at least 10 are needed (use a shorter length or a smaller hop)`);
  const all = new Float32Array(windows.length * length);
  windows.forEach((w, i) => all.set(w, i * length));
  const settings = { files: files.map((f) => path.basename(f)), length, hop, sampleRate: rate, encoding: 'mu-law 8-bit', content: fingerprint(hashes) };
  return sequenceDataset('wav', all, windows.length, length, 256, settings, 1, { sampleRate: rate });
}

/** A dataset of integer symbol rows with the usual seeded 80/10/10 split. */
export function sequenceDataset(
  name: string,
  all: Float32Array,
  n: number,
  length: number,
  levels: number,
  settings: Record<string, unknown>,
  splitSeed: number,
  extra: Partial<Dataset> = {},
): Dataset {
  const splits = splitRows(all, n, length, splitSeed);
  return {
    name,
    kind: 'sequence',
    shape: [length],
    dim: length,
    binary: false,
    ...splits,
    settings,
    levels,
    ...extra,
    fingerprint: fingerprint({ name, ...settings, levels, sizes: [splits.train.n, splits.val.n, splits.test.n] }),
  };
}

function remember(key: string, ds: Dataset): Dataset {
  cache.set(key, ds);
  return ds;
}

export function wholeAtLeast(v: unknown, min: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.floor(v) < min) throw new Error(`lab.data: ${what} must be a whole number >= ${min} (got ${String(v)})`);
  return Math.floor(v);
}
