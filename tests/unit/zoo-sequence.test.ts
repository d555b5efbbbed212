// Categorical sequence families (WaveNet on mu-law audio, the character model on
// text) and their data: causality, normalization, the chain rule through the
// sampler's sliding window, and learning on the real datasets.
import type { LikelihoodEvaluation } from '../../src/engine/eval/evaluate';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend/select';
import { decodeText, encodeText, textDataset, TEXT_VOCAB } from '../../src/engine/data/text';
import { encodeWav, muLawDecode, muLawEncode, parseWav, wav, waveforms } from '../../src/engine/data/waveforms';
import { createLab } from '../../src/engine/lab/lab';
import { CharLm } from '../../src/engine/models/autoregressive/charlm';
import type { CategoricalSequence } from '../../src/engine/models/autoregressive/sequence';
import { Wavenet } from '../../src/engine/models/autoregressive/wavenet';
import { mulberry32 } from '../../src/engine/util/rng';
import { collectingContext } from './engine-helpers';

beforeAll(async () => {
  await selectBackend('wasm');
});

function randomize(model: CategoricalSequence, seed: number): void {
  const rng = mulberry32(seed);
  for (const { tensor } of model.getWeights()) {
    const v = new Float32Array(tensor.size).map(() => 2 * (rng.next() - 0.5));
    (tensor as tf.Variable).assign(tf.tensor(v, tensor.shape));
  }
}

const families: [string, () => CategoricalSequence][] = [
  // context 2 + 3 = 5 < T: the sampler's window slides, and the chain-rule check covers it
  ['wavenet', () => new Wavenet({ channels: 4, skipChannels: 5, layers: 2, stacks: 1 })],
  ['wavenet, two stacks', () => new Wavenet({ channels: 3, skipChannels: 8, layers: 2, stacks: 2 })],
  ['charlm attention', () => new CharLm({ dim: 8, layers: 2, heads: 2 })],
  ['charlm gru', () => new CharLm({ kind: 'gru', dim: 6 })],
];

describe.each(families)('%s', (name, make) => {
  const build = (T: number, K: number) => {
    const m = make();
    m.build({ kind: 'sequence', shape: [T], binary: false, levels: K }, mulberry32(5));
    randomize(m, 11);
    return m;
  };

  it('output t depends on no input at or after t (exact zero gradients) and on the one before it', () => {
    const T = 10;
    const K = 4;
    const m = build(T, K);
    const rng = mulberry32(3);
    // 4 rows off the one-hot corners: a relu closed at one position for every row would hide a dependence
    const inp = tf.tensor3d(Float32Array.from({ length: 4 * T * K }, () => rng.next()), [4, T, K]);
    for (let i = 0; i < T; i++) {
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(m.logitsFromOneHot(x as tf.Tensor3D), [0, i, 0], [-1, 1, -1])))(inp);
      const gv = g.arraySync() as number[][][];
      for (let j = 0; j < T; j++) {
        const touched = gv.some((row) => row[j].some((v) => v !== 0));
        if (j >= i) expect(touched, `output ${i} must not see input ${j}`).toBe(false);
        if (j === i - 1) expect(touched, `output ${i} must see input ${j}`).toBe(true);
        if (j < i - m.context()) expect(touched, `output ${i} is past its receptive field at ${j}`).toBe(false);
      }
      g.dispose();
    }
    inp.dispose();
    m.dispose();
  });

  it('gives all K^T sequences probabilities that sum to 1, and the parallel log p equals the chain rule through the sampler', () => {
    const T = name.startsWith('wavenet') ? 8 : 4;
    const K = name.startsWith('wavenet') ? 2 : 3;
    const m = build(T, K);
    const count = K ** T;
    const all = new Float32Array(count * T);
    for (let s = 0; s < count; s++) for (let t = 0, r = s; t < T; t++, r = Math.floor(r / K)) all[s * T + t] = r % K;
    const x = tf.tensor2d(all, [count, T]);
    const nll = m.testNll(x).nll;
    expect(Math.abs(nll.reduce((a, v) => a + Math.exp(-v), 0) - 1)).toBeLessThan(1e-5);
    // the sampler's own windowed passes, fed each sequence's symbols: p(x) = prod_t p(x_t | x_<t)
    for (let s = 0; s < count; s += 7) {
      let logp = 0;
      const row = all.subarray(s * T, (s + 1) * T);
      m.generate(new Float32Array(0), 0, 1, T, () => 0, undefined, (t, probs) => {
        logp += Math.log(probs[row[t]]);
        return row[t];
      });
      expect(Math.abs(-logp - nll[s])).toBeLessThan(1e-4);
    }
    x.dispose();
    m.dispose();
  });

  it('samples symbols in range, the same ones for the same seed', () => {
    const m = build(12, 5);
    const a = m.sample(3, undefined, 9);
    const b = m.sample(3, undefined, 9);
    const av = Array.from(a.dataSync());
    expect(av.every((v) => Number.isInteger(v) && v >= 0 && v < 5)).toBe(true);
    expect(Array.from(b.dataSync())).toEqual(av);
    expect(new Set(av).size).toBeGreaterThan(1);
    tf.dispose([a, b]);
    m.dispose();
  });
});

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

describe('text', () => {
  it('maps newline and printable ASCII to 96 symbols and back; anything else becomes ?', () => {
    expect(TEXT_VOCAB.length).toBe(96);
    expect(decodeText(encodeText('Hi,\nthere~'))).toBe('Hi,\nthere~');
    expect(decodeText(encodeText('tab\there é'))).toBe('tab here ?');
  });

  it('the embedded corpus is TypeScript library text; a string of ones own works the same', () => {
    const ds = textDataset({ length: 64 });
    expect(ds.vocab).toBe(TEXT_VOCAB);
    expect(ds.train.n).toBeGreaterThan(2000);
    expect(decodeText(ds.train.x.subarray(0, 64 * 50))).toMatch(/interface|function|readonly/);
    const own = textDataset({ text: 'abc '.repeat(200), length: 16 });
    expect(own.train.n + own.val.n + own.test.n).toBe(50);
    expect(() => textDataset({ text: 'short', length: 16 })).toThrow('at least 10 are needed');
    expect(() => textDataset({ file: '/nonexistent/file.txt' })).toThrow('cannot read');
  });
});

describe('learning on the real data', () => {
  it('wavenet learns the synthetic audio and charlm learns text (exact NLL falls); lab.evaluate records the test NLL; a prompt is completed', async () => {
    const { ctx, messages } = collectingContext();
    const lab = createLab(ctx);
    const audio = lab.data.waveforms({ n: 300, length: 128 });
    const wn = lab.models.wavenet({ channels: 16, skipChannels: 16, layers: 5, stacks: 1 });
    const run = await lab.train(wn, audio, { steps: 80, batchSize: 16, evalEvery: 40, sampleEvery: 80, lr: 3e-3 });
    const val = run.history('val/bits_per_dim').values;
    expect(val[0]).toBeGreaterThan(7.5); // about 8 bits per sample before training
    expect(val[val.length - 1]).toBeLessThan(val[0] - 1.5);
    const ev = lab.evaluate(wn, audio.test) as LikelihoodEvaluation;
    expect(ev.kind).toBe('exact');
    expect(ev.bits_per_dim).toBeCloseTo(ev.nll_nats / (128 * Math.LN2), 8);
    expect(messages.some((m) => m.type === 'run.artifact' && m.artifact.runId === run.id && m.artifact.kind === 'samples')).toBe(true);

    const text = lab.data.text({ length: 32, limit: 600 });
    const lm = lab.models.charlm({ dim: 32, layers: 1, heads: 2 });
    const r2 = await lab.train(lm, text, { steps: 40, batchSize: 32, evalEvery: 40, sampleEvery: 1000, lr: 3e-3 });
    const bpc = r2.history('val/bits_per_dim').values;
    expect(bpc[0]).toBeGreaterThan(6);
    expect(bpc[bpc.length - 1]).toBeLessThan(4.5);
    const done = lm.complete('interface ', { n: 2, length: 20, seed: 4 });
    expect(done).toHaveLength(2);
    for (const s of done) {
      expect(s.startsWith('interface ')).toBe(true);
      expect(s).toHaveLength(20);
    }
    expect(lm.complete('interface ', { n: 2, length: 20, seed: 4 })).toEqual(done);
    expect(() => lab.models.wavenet().build({ kind: 'image', shape: [28, 28], binary: true }, mulberry32(1))).toThrow('lab.data.waveforms()');
    expect(() => lab.models.charlm({ dim: 10, heads: 4 })).toThrow('must divide dim');
    wn.dispose();
    lm.dispose();
  }, 180_000);
});
