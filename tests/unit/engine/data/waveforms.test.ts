// Audio data: mu-law round-trips, WAV files read (8/16/24-bit PCM, float, mixed to
// mono) or refused, lab.data.wav cutting a folder into windows, the seeded synthetic
// waveforms.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeWav, muLawDecode, muLawEncode, parseWav, wav, waveforms } from '../../../../src/engine/data/waveforms';

describe('mu-law and WAV files', () => {
  it('mu-law round-trips within one quantization step and keeps 0 at the middle', () => {
    expect(muLawEncode(0)).toBe(128);
    expect(muLawEncode(-1)).toBe(0);
    expect(muLawEncode(1)).toBe(255);
    for (let c = 0; c < 256; c++) expect(muLawEncode(muLawDecode(c))).toBe(c);
  });

  it('reads 8-, 16-, 24-bit PCM and float WAVs, mixed to mono, and refuses what it cannot read', () => {
    const tone = Float32Array.from({ length: 800 }, (_, i) => 0.5 * Math.sin(i / 5));
    const pcm16 = parseWav(encodeWav(tone, 8000));
    expect(pcm16.sampleRate).toBe(8000);
    expect(pcm16.samples.length).toBe(800);
    for (let i = 0; i < 800; i++) expect(Math.abs(pcm16.samples[i] - tone[i])).toBeLessThan(1e-4);
    // a stereo 24-bit file and a float one, written by hand
    const header = (format: number, channels: number, bits: number, frames: number) => {
      const bytes = (bits / 8) * channels * frames;
      const b = Buffer.alloc(44 + bytes);
      b.write('RIFF', 0, 'ascii');
      b.writeUInt32LE(36 + bytes, 4);
      b.write('WAVEfmt ', 8, 'ascii');
      b.writeUInt32LE(16, 16);
      b.writeUInt16LE(format, 20);
      b.writeUInt16LE(channels, 22);
      b.writeUInt32LE(16000, 24);
      b.writeUInt32LE(16000 * channels * (bits / 8), 28);
      b.writeUInt16LE(channels * (bits / 8), 32);
      b.writeUInt16LE(bits, 34);
      b.write('data', 36, 'ascii');
      b.writeUInt32LE(bytes, 40);
      return b;
    };
    const st = header(1, 2, 24, 2);
    st.writeIntLE(4194304, 44, 3); // +0.5 left
    st.writeIntLE(-4194304, 47, 3); // -0.5 right
    st.writeIntLE(-8388608, 50, 3); // -1 left
    st.writeIntLE(-8388608, 53, 3); // -1 right
    expect(Array.from(parseWav(st).samples)).toEqual([0, -1]);
    const fl = header(3, 1, 32, 2);
    fl.writeFloatLE(0.25, 44);
    fl.writeFloatLE(-0.75, 48);
    expect(Array.from(parseWav(fl).samples)).toEqual([0.25, -0.75]);
    const u8 = header(1, 1, 8, 2);
    u8[44] = 128;
    u8[45] = 0;
    expect(Array.from(parseWav(u8).samples)).toEqual([0, -1]);
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow("'RIFF....WAVE'");
    expect(() => parseWav(header(2, 1, 4, 1))).toThrow('format 2 with 4 bits');
  });

  it('lab.data.wav cuts a folder of files into mu-law windows and says clearly what is wrong', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-wav-'));
    const tone = (f: number) => Float32Array.from({ length: 4000 }, (_, i) => 0.6 * Math.sin((2 * Math.PI * f * i) / 8000));
    fs.writeFileSync(path.join(dir, 'a.wav'), encodeWav(tone(220), 8000));
    fs.writeFileSync(path.join(dir, 'b.wav'), encodeWav(tone(440), 8000));
    const ds = wav(dir, { length: 200 });
    expect(ds.kind).toBe('sequence');
    expect(ds.levels).toBe(256);
    expect(ds.sampleRate).toBe(8000);
    expect(ds.train.n + ds.val.n + ds.test.n).toBe(40);
    expect(ds.settings.files).toEqual(['a.wav', 'b.wav']);
    expect(Math.max(...ds.train.x)).toBeGreaterThan(230);
    expect(Math.min(...ds.train.x)).toBeLessThan(25);
    fs.writeFileSync(path.join(dir, 'c.wav'), encodeWav(tone(330), 16000));
    expect(() => wav(dir, { length: 200 })).toThrow('c.wav is 16000 Hz but the others are 8000 Hz');
    expect(() => wav(path.join(dir, 'missing.wav'))).toThrow('does not exist');
    expect(() => wav(path.join(dir, 'a.wav'), { length: 1000 })).toThrow('at least 10 are needed');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the synthetic waveforms are seeded, split 80/10/10 and use the whole mu-law range', () => {
    const a = waveforms({ n: 100, length: 64 });
    const b = waveforms({ n: 100, length: 64, seed: 1 });
    expect([a.train.n, a.val.n, a.test.n]).toEqual([80, 10, 10]);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(a.train.x.every((v) => Number.isInteger(v) && v >= 0 && v < 256)).toBe(true);
    expect(new Set(a.train.x).size).toBeGreaterThan(100);
  });
});
