// lab.views of autoregressive models:
//  - receptiveField: the inputs one output depends on (non-zero gradients);
//  - complete: the bottom half of test images drawn given the top half;
//  - listen: generated audio as a WAV file with a player;
//  - sampleLive: sampling drawn as it happens, one image refreshed in place.
import { writeFile } from '../../util/files';
import { built, uniqueViewKey, need, viewName, viewOutputs } from '../../views/common';
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../../context';
import { InterruptedError } from '../../context';
import { BinaryAutoregressive } from './chain-rule';
import { CategoricalSequence } from './sequence';
import { uniformValues } from '../../ops/random';
import { imageGridPng } from '../../util/png';
import { textSamplesPng, waveformSamplesPng } from '../../util/sequence-png';
import { encodeWav, muLawDecode } from '../../data/waveforms';

export function autoregressiveViews(ctx: EngineContext): Pick<LatentLab.Views, 'receptiveField' | 'complete' | 'listen' | 'sampleLive'> {
  const { emitPlot, emitImage } = viewOutputs(ctx);

  return {
    async receptiveField(model, opts = {}) {
      built(model, 'receptiveField');
      if (model instanceof BinaryAutoregressive) {
        const [h, w] = model.imageShape();
        const row = Math.floor(opts.row ?? h / 2);
        const col = Math.floor(opts.col ?? w / 2);
        need(row >= 0 && row < h && col >= 0 && col < w, `lab.views.receptiveField: row/col outside the ${h}×${w} image`);
        const i = opts.position ?? row * w + col;
        const x = tf.fill([1, h * w], 0.5) as tf.Tensor2D;
        const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(model.logits(inp as tf.Tensor2D), [0, i], [1, 1])))(x);
        let gv: Float32Array;
        try {
          gv = (await g.data()) as Float32Array;
        } finally {
          tf.dispose([x, g]);
        }
        const z: number[][] = [];
        let seen = 0;
        for (let r = 0; r < h; r++) {
          const line: number[] = [];
          for (let c = 0; c < w; c++) {
            const d = r * w + c;
            const v = d === i ? 2 : gv[d] !== 0 ? 1 : 0;
            if (v === 1) seen++;
            line.push(v);
          }
          z.push(line);
        }
        emitPlot(
          [{ type: 'heatmap', z, zmin: 0, zmax: 2, colorscale: [[0, '#f4f5f7'], [0.5, '#1f6feb'], [1, '#d1495b']], showscale: false, hoverinfo: 'skip' }],
          { title: { text: `${model.family}: output (${Math.floor(i / w)}, ${i % w}) sees ${seen} pixels` }, xaxis: { constrain: 'domain' }, yaxis: { autorange: 'reversed', scaleanchor: 'x', constrain: 'domain' }, height: 400 },
          'blue: the pixels with a non-zero gradient of the output logit (at a mid-grey input); red: the output pixel',
        );
        return { seen, of: h * w };
      }
      if (model instanceof CategoricalSequence) {
        const T = model.length;
        const K = model.levels;
        const t = Math.floor(opts.position ?? T - 1);
        need(t >= 0 && t < T, `lab.views.receptiveField: position must be in [0, ${T})`);
        const inp = tf.fill([1, T, K], 1 / K) as tf.Tensor3D;
        const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(model.logitsFromOneHot(x as tf.Tensor3D), [0, t, 0], [1, 1, -1])))(inp);
        let gv: Float32Array;
        try {
          gv = (await g.data()) as Float32Array;
        } finally {
          tf.dispose([inp, g]);
        }
        const mag = Array.from({ length: T }, (_, j) => {
          let s = 0;
          for (let k = 0; k < K; k++) s += Math.abs(gv[j * K + k]);
          return s;
        });
        const seen = mag.filter((v) => v !== 0).length;
        emitPlot(
          [{ type: 'bar', x: mag.map((_, j) => j), y: mag, marker: { color: mag.map((v, j) => (j === t ? '#d1495b' : v !== 0 ? '#1f6feb' : '#c9ccd1')) } }],
          { title: { text: `${model.family}: output ${t} depends on ${seen} earlier positions` }, xaxis: { title: { text: 'input position' } }, yaxis: { title: { text: '|gradient|' } } },
          'summed |gradient| of the output logits with respect to each input position',
        );
        return { seen, of: T };
      }
      throw new Error(`lab.views.receptiveField: shows autoregressive models (fvsbn, nade, made, pixelcnn, wavenet, charlm), not a ${model.family}`);
    },

    async complete(model, split, opts = {}) {
      built(model, 'complete');
      need(model instanceof BinaryAutoregressive, `lab.views.complete: completes images with a binary autoregressive model (for charlm use model.complete(prompt)), not a ${model.family}`);
      need(split && split.x instanceof Float32Array && split.n > 0, 'lab.views.complete: the second argument must be a split, e.g. data.test');
      const [h, w] = model.imageShape();
      const D = h * w;
      need(split.x.length / split.n === D, 'lab.views.complete: the split has a different size from the model');
      const n = Math.max(1, Math.min(split.n, Math.floor(opts.n ?? 8)));
      const given = split.x.slice(0, n * D);
      const half = Math.floor(h / 2) * w;
      // the values uniform([n, D], seed) holds
      const uv = uniformValues(opts.seed ?? 7, n * D);
      const steps = model.sampling(n, uv, given, (d) => d < half);
      let r = await steps.next();
      while (!r.done) r = await steps.next();
      const out = r.value;
      const masked = Float32Array.from(given, (v, k) => (k % D < half ? v : 0.5));
      const all = new Float32Array(3 * n * D);
      all.set(given, 0);
      all.set(masked, n * D);
      all.set(out, 2 * n * D);
      const rel = viewName('completion');
      emitImage(rel, imageGridPng(all, 3 * n, h, w, n).png, `${model.family}: test images (top), their top halves (middle), the bottom halves drawn given the top (bottom)`);
      return { path: rel };
    },

    async listen(model, opts = {}) {
      built(model, 'listen');
      need(model instanceof CategoricalSequence && !model.isText, `lab.views.listen: plays samples of an audio model (wavenet on waveforms or WAV data), not a ${model.family}${model instanceof CategoricalSequence ? ' on text' : ''}`);
      const n = Math.max(1, Math.min(32, Math.floor(opts.n ?? 4)));
      const T = model.length;
      const rate = model.sampleRate;
      const saved = model.temperature;
      model.temperature = opts.temperature ?? 1;
      let codes: Float32Array;
      try {
        const x = await model.sample(n, undefined, opts.seed ?? 1);
        try {
          codes = (await x.data()) as Float32Array;
        } finally {
          x.dispose();
        }
      } finally {
        model.temperature = saved;
      }
      // the windows one after another, a tenth of a second of silence between them
      const gap = Math.round(rate / 10);
      const audio = new Float32Array(n * T + (n - 1) * gap);
      for (let r = 0; r < n; r++) for (let t = 0; t < T; t++) audio[r * (T + gap) + t] = muLawDecode(codes[r * T + t]);
      const rel = viewName('samples', 'wav');
      writeFile(ctx.artifactsDir(), rel, encodeWav(audio, rate));
      const seconds = audio.length / rate;
      ctx.exec()?.emit({ type: 'audio', path: rel, caption: `${model.family}: ${n} generated windows of ${T} samples at ${rate} Hz (${seconds.toFixed(2)} s)` });
      return { path: rel, seconds };
    },

    async sampleLive(model, opts = {}) {
      built(model, 'sampleLive');
      const exec = ctx.exec();
      const key = `live-${uniqueViewKey('')}`.replace(/-$/, '');
      const seed = opts.seed ?? 1;
      let frames = 0;
      let lastRel = '';
      const frame = (png: Buffer, caption: string) => {
        lastRel = viewName(`${key}-${++frames}`);
        emitImage(lastRel, png, caption, key);
      };
      const pause = async () => {
        await new Promise<void>((r) => setImmediate(r));
        if (exec?.signal.aborted) throw new InterruptedError();
      };
      if (model instanceof BinaryAutoregressive) {
        const [h, w] = model.imageShape();
        const D = h * w;
        const n = Math.max(1, Math.floor(opts.n ?? 16));
        const every = Math.max(1, Math.floor(opts.every ?? w));
        const uv = uniformValues(seed, n * D);
        const drawn = new Uint8Array(D);
        const show = (x: Float32Array, k: number) => {
          const v = Float32Array.from(x, (val, j) => (drawn[j % D] ? val : 0.35));
          frame(imageGridPng(v, n, h, w).png, `${model.family}: ${k} of ${D} pixels drawn`);
        };
        const steps = model.sampling(n, uv);
        let k = 0;
        for (let r = await steps.next(); ; r = await steps.next()) {
          if (r.done) {
            show(r.value, D);
            break;
          }
          drawn[r.value.i] = 1;
          if (++k % every === 0) {
            show(r.value.x, k);
            await pause();
          }
        }
        return { path: lastRel, steps: D };
      }
      if (model instanceof CategoricalSequence) {
        const T = model.length;
        const n = Math.max(1, Math.floor(opts.n ?? 4));
        const every = Math.max(1, Math.floor(opts.every ?? 16));
        const uv = uniformValues(seed, n * T);
        const text = model.isText;
        const show = (x: Float32Array, t: number) => {
          // the part drawn so far: text is cut at t, audio is shown with silence after t
          const v = new Float32Array(n * T).fill(text ? 0 : 128);
          for (let r = 0; r < n; r++) v.set(x.subarray(r * T, r * T + t), r * T);
          const png = text ? textSamplesPng(v, n, T) : waveformSamplesPng(v, n, T);
          frame(png, `${model.family}: ${t} of ${T} ${text ? 'characters' : 'samples'} drawn`);
        };
        const steps = model.generating(new Float32Array(0), 0, n, T, (r, t) => uv[r * T + t]);
        for (let r = await steps.next(); ; r = await steps.next()) {
          if (r.done) {
            show(r.value, T);
            break;
          }
          if ((r.value.t + 1) % every === 0) {
            show(r.value.x, r.value.t + 1);
            await pause();
          }
        }
        return { path: lastRel, steps: T };
      }
      throw new Error(`lab.views.sampleLive: draws autoregressive models step by step (fvsbn, nade, made, pixelcnn, wavenet, charlm), not a ${model.family}`);
    },
  };
}
