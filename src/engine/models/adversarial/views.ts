// lab.views of adversarial models (GAN Lab's best ideas, Kahng et al. 2018), as notebook outputs:
//  - ganLab: on 2-D points, data and generated points together over the discriminator's
//    output as a heatmap, with the generator's gradient as arrows at generated points;
//    then one discriminator or one generator update per animation frame, so a slider
//    steps through the game one move at a time;
//  - discriminatorHistogram: D(x) on real (validation) and on generated examples, for
//    every adversarial model, on points or images; its means and accuracy.
import { built, isDataset, need, type Trace } from '../../views/common';
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../../context';
import { isAdversarial, type AdversarialModel } from './adversarial';
import type { Model, NamedWeight, StepContext } from '../types';
import { createOptimizer, optimizerStep, type OptimizerSettings } from '../../train/optimizers';
import { readMetrics } from '../../train/trainer';
import { mulberry32 } from '../../util/rng';
import { animationControls } from '../../views/plotly-animation';
import type { CellOutput } from '../../../shared/domain';

function adversarial(model: LatentLab.Model, view: string): AdversarialModel {
  need(model && typeof (model as Model).trainStep === 'function', `lab.views.${view}: the first argument must be a model from lab.models`);
  need(isAdversarial(model), `lab.views.${view}: needs an adversarial model (gan, dcgan, wgan, wganGp, lsgan, cgan), not a ${model.family}`);
  built(model, view);
  return model;
}

/** the box around the validation points with a margin: [[x0, x1], [y0, y1]] */
function box(x: Float32Array, n: number, margin: number): [number, number][] {
  const r: [number, number][] = [[Infinity, -Infinity], [Infinity, -Infinity]];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 2; a++) {
      r[a][0] = Math.min(r[a][0], x[2 * i + a]);
      r[a][1] = Math.max(r[a][1], x[2 * i + a]);
    }
  }
  return r.map(([lo, hi]) => {
    const m = (hi - lo) * margin || 1;
    return [lo - m, hi + m] as [number, number];
  });
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));
const meanOf = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : NaN;
};

/** a tensor's values, read back, then the tensor disposed */
async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    return ((await t.data()) as Float32Array).slice();
  } finally {
    t.dispose();
  }
}

/** the critic's output per row, as plain numbers */
async function criticValues(model: AdversarialModel, x: Float32Array, dim: number, labels?: tf.Tensor2D): Promise<Float32Array> {
  const t = tf.tensor2d(x, [x.length / dim, dim]);
  let out: tf.Tensor2D;
  try {
    out = model.critic(t, labels);
  } finally {
    t.dispose();
  }
  return readAndDispose(out);
}

/** copies of every weight's values (what setWeights takes back) */
async function snapshot(model: Model): Promise<NamedWeight[]> {
  const weights = await model.getWeights();
  const values = await Promise.all(weights.map(({ tensor }) => tensor.data()));
  return weights.map(({ name, tensor }, i) => ({ name, tensor: tf.tensor(values[i].slice(), tensor.shape, tensor.dtype) }));
}

export function adversarialViews(ctx: EngineContext): Pick<LatentLab.Views, 'ganLab' | 'discriminatorHistogram'> {
  const emit = (out: CellOutput) => ctx.exec()?.emit(out);

  return {
    async ganLab(model, data, opts = {}) {
      const m = adversarial(model, 'ganLab');
      need(isDataset(data) && data.kind === 'points' && data.dim === 2, 'lab.views.ganLab: needs 2-D point data (lab.data.toy2d)');
      need(!m.conditional, `lab.views.ganLab: shows unconditional models on 2-D points; a ${m.family} is conditioned on class labels`);
      const given: unknown = opts.updates ?? 'dgdgdgdg';
      const updates = (Array.isArray(given) ? given.join('') : String(given)).toLowerCase();
      need(/^[dg]*$/.test(updates), `lab.views.ganLab: updates must be a string of 'd' (one discriminator update) and 'g' (one generator update), e.g. 'dg' or 'ddddg', not '${String(given)}'`);
      need(updates.length <= 100, 'lab.views.ganLab: at most 100 updates (one frame each)');
      const lr = opts.lr ?? 1e-3;
      need(typeof lr === 'number' && lr > 0 && Number.isFinite(lr), 'lab.views.ganLab: lr must be a positive number');
      const batchSize = Math.max(2, Math.min(2048, Math.floor(opts.batchSize ?? 256)));
      const seed = Math.floor(opts.seed ?? 1);
      const n = Math.max(2, Math.min(2000, Math.floor(opts.n ?? 300)));
      const nArrows = Math.max(0, Math.min(n, Math.floor(opts.arrows ?? 40)));
      const size = Math.max(5, Math.min(100, Math.floor(opts.size ?? 40)));

      // the plane: the validation data's box; the heatmap's cell centres
      const nVal = Math.min(1000, data.val.n);
      const real = data.val.x.subarray(0, 2 * nVal);
      const [[x0, x1], [y0, y1]] = box(real, nVal, 0.2);
      const xs = Array.from({ length: size }, (_, i) => x0 + ((i + 0.5) * (x1 - x0)) / size);
      const ys = Array.from({ length: size }, (_, j) => y0 + ((j + 0.5) * (y1 - y0)) / size);
      const gridPts = new Float32Array(2 * size * size);
      for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) {
        gridPts[2 * (j * size + i)] = xs[i];
        gridPts[2 * (j * size + i) + 1] = ys[j];
      }

      // the updates' randomness: batches of real rows and the players' codes
      const rng = mulberry32(seed);
      const batchRng = rng.fork();
      const codeRng = rng.fork();
      const settings: OptimizerSettings = {
        optimizer: 'adam',
        lr,
        beta1: m.optimizerDefaults?.beta1 ?? 0.9,
        beta2: m.optimizerDefaults?.beta2 ?? 0.999,
        momentum: 0.9,
        clipNorm: null,
        weightDecay: 0,
      };
      const optimizers = new Map<string, tf.Optimizer>();
      let touched: string[] = [];
      const stepCtx: StepContext = {
        minimize(group, loss, vars) {
          let opt = optimizers.get(group);
          if (!opt) optimizers.set(group, (opt = createOptimizer(settings)));
          touched.push(group);
          return optimizerStep(opt, loss, vars, settings, lr);
        },
        seed: () => codeRng.seed(),
      };
      const realBatch = (): tf.Tensor2D => {
        const B = Math.min(batchSize, data.train.n);
        const buf = new Float32Array(2 * B);
        for (let b = 0; b < B; b++) {
          const r = batchRng.int(data.train.n);
          buf[2 * b] = data.train.x[2 * r];
          buf[2 * b + 1] = data.train.x[2 * r + 1];
        }
        return tf.tensor2d(buf, [B, 2]);
      };

      // the shown generated points: the same codes in every frame
      const saved = opts.keep ? null : await snapshot(m);
      const codes = m.noise(n, seed + 7);
      const states: { label: string; player: 'd' | 'g' | null; groups: string[]; metrics: Record<string, number>; heat: Float32Array; fake: Float32Array; grad: Float32Array; dReal: number; dFake: number }[] = [];
      const capture = async (label: string, player: 'd' | 'g' | null, groups: string[], metrics: Record<string, number>) => {
        const fake = await readAndDispose(await m.sample(n, codes));
        need(fake.length === 2 * n, `lab.views.ganLab: the ${m.family} generates ${fake.length / n}-D points, the data is 2-D`);
        const heat = await criticValues(m, gridPts, 2);
        const dReal = meanOf(await criticValues(m, real, 2));
        const dFake = meanOf(await criticValues(m, fake, 2));
        let grad: Float32Array = new Float32Array(0);
        if (nArrows > 0) {
          const at = tf.tensor2d(fake.subarray(0, 2 * nArrows), [nArrows, 2]);
          let g: tf.Tensor2D;
          try {
            g = m.generatorGradient(at);
          } finally {
            at.dispose();
          }
          grad = await readAndDispose(g);
        }
        states.push({ label, player, groups, metrics, heat, fake, grad, dReal, dFake });
      };
      try {
        await capture('start', null, [], {});
        for (const u of updates) {
          touched = [];
          let metrics: Record<string, number>;
          if (u === 'd') {
            const x = realBatch();
            try {
              metrics = await readMetrics(m.discriminatorStep(x, stepCtx));
            } finally {
              x.dispose();
            }
          } else {
            metrics = await readMetrics(m.generatorStep(batchSize, stepCtx));
          }
          await capture(u === 'd' ? 'step D' : 'step G', u as 'd' | 'g', touched, metrics);
        }
      } finally {
        codes.dispose();
        for (const o of optimizers.values()) o.dispose();
        if (saved) {
          m.setWeights(saved);
          tf.dispose(saved.map((w) => w.tensor));
        }
      }

      // one colour scale for every frame: probabilities on [0, 1], scores on their range over all frames
      const prob = m.criticKind === 'probability';
      let zmin = 0;
      let zmax = 1;
      if (!prob) {
        zmin = Infinity;
        zmax = -Infinity;
        for (const s of states) for (const v of s.heat) {
          zmin = Math.min(zmin, v);
          zmax = Math.max(zmax, v);
        }
        if (!(zmax > zmin)) zmax = zmin + 1;
      }
      // one arrow scale for every frame: the 90th-percentile gradient is 8% of the box's diagonal
      const norms: number[] = [];
      for (const s of states) for (let k = 0; k < s.grad.length / 2; k++) norms.push(Math.hypot(s.grad[2 * k], s.grad[2 * k + 1]));
      norms.sort((a, b) => a - b);
      const ref = norms.length ? norms[Math.floor(0.9 * (norms.length - 1))] : 0;
      const span = Math.hypot(x1 - x0, y1 - y0);
      const arrowScale = ref > 0 ? (0.08 * span) / ref : 0;
      const maxLen = 0.15 * span;

      const zOf = (heat: Float32Array) => Array.from({ length: size }, (_, j) => Array.from(heat.subarray(j * size, (j + 1) * size), (v) => round(v)));
      const frameTraces = (s: (typeof states)[number]): Trace[] => {
        const ax: (number | null)[] = [];
        const ay: (number | null)[] = [];
        const sizes: number[] = [];
        for (let k = 0; k < s.grad.length / 2; k++) {
          const px = s.fake[2 * k];
          const py = s.fake[2 * k + 1];
          let dx = s.grad[2 * k] * arrowScale;
          let dy = s.grad[2 * k + 1] * arrowScale;
          const len = Math.hypot(dx, dy);
          if (len > maxLen) {
            dx *= maxLen / len;
            dy *= maxLen / len;
          }
          ax.push(round(px), round(px + dx), null);
          ay.push(round(py), round(py + dy), null);
          sizes.push(0, 9, 0);
        }
        const fx: number[] = [];
        const fy: number[] = [];
        for (let k = 0; k < n; k++) {
          fx.push(round(s.fake[2 * k]));
          fy.push(round(s.fake[2 * k + 1]));
        }
        return [
          {
            type: 'heatmap', x: xs.map((v) => round(v)), y: ys.map((v) => round(v)), z: zOf(s.heat), zmin, zmax, zsmooth: 'best',
            colorscale: [[0, '#7b3294'], [0.5, '#f7f7f7'], [1, '#008837']], opacity: 0.75, hoverinfo: 'skip',
            colorbar: { title: { text: prob ? 'D(x) = P(real)' : 'critic score', side: 'right' }, thickness: 12 },
          },
          { type: 'scatter', mode: 'markers', x: fx, y: fy, name: 'generated G(z)', marker: { size: 4, color: '#d1495b' } },
          { type: 'scatter', mode: 'lines+markers', x: ax, y: ay, name: "G's gradient", line: { color: '#222', width: 1.2 }, marker: { symbol: 'arrow', angleref: 'previous', size: sizes, color: '#222' }, hoverinfo: 'skip', connectgaps: false },
        ];
      };
      const title = (s: (typeof states)[number], k: number) =>
        `${m.family}: ${k === 0 ? 'the current state' : `update ${k}/${states.length - 1}: ${s.label}`} — mean ${prob ? 'D' : 'critic'} on real ${s.dReal.toFixed(3)}, on generated ${s.dFake.toFixed(3)}`;
      const rx: number[] = [];
      const ry: number[] = [];
      for (let i = 0; i < Math.min(500, nVal); i++) {
        rx.push(round(real[2 * i]));
        ry.push(round(real[2 * i + 1]));
      }
      const first = frameTraces(states[0]);
      const traces: Trace[] = [
        first[0],
        { type: 'scatter', mode: 'markers', x: rx, y: ry, name: 'data (validation)', marker: { size: 4, color: '#1f6feb', opacity: 0.7 } },
        first[1],
        first[2],
      ];
      const frames = states.map((s, k) => {
        const [heat, fake, arrows] = frameTraces(s);
        return { name: String(k), data: [heat, fake, arrows], traces: [0, 2, 3], layout: { title: { text: title(s, k) } } };
      });
      const layout: Record<string, unknown> = {
        title: { text: title(states[0], 0), font: { size: 13 } },
        xaxis: { range: [x0, x1], zeroline: false, constrain: 'domain' },
        yaxis: { range: [y0, y1], zeroline: false, scaleanchor: 'x', constrain: 'domain' },
        height: 580,
        legend: { orientation: 'h', x: 0, y: 1.01, yanchor: 'bottom' },
        margin: { l: 48, r: 16, t: 76, b: 110 },
        ...animationControls({
          steps: frames.map((f, k) => ({ label: k === 0 ? 'start' : `${k}: ${states[k].label}`, frame: f.name })),
          prefix: 'frame: ',
          playMs: 700,
          redraw: true,
        }),
      };
      // `frames` rides along with the figure (Plotly's animation frames)
      emit({ type: 'plot', data: traces, layout, frames, caption: `${states.length - 1} single updates (${updates || 'none'}): drag the slider to step one update at a time; red = generated, blue = data, arrows = where G's update pushes each point` } as CellOutput);
      return {
        frames: states.map((s) => ({ label: s.label, player: s.player, groups: s.groups, dReal: s.dReal, dFake: s.dFake, metrics: s.metrics })),
        labels: states.map((s) => s.label),
        dReal: states.map((s) => s.dReal),
        dFake: states.map((s) => s.dFake),
        criticKind: m.criticKind,
        grid: { x: xs, y: ys, z: states.map((s) => Array.from({ length: size }, (_, j) => Array.from(s.heat.subarray(j * size, (j + 1) * size)))) },
      };
    },

    async discriminatorHistogram(model, data, opts = {}) {
      const m = adversarial(model, 'discriminatorHistogram');
      need(isDataset(data), 'lab.views.discriminatorHistogram: the second argument must be a dataset from lab.data (its validation split is the real side)');
      const prob = m.criticKind === 'probability';
      const threshold = opts.threshold ?? (prob ? 0.5 : 0);
      need(typeof threshold === 'number' && Number.isFinite(threshold), 'lab.views.discriminatorHistogram: threshold must be a number');
      const n = Math.max(2, Math.min(data.val.n, Math.floor(opts.n ?? (data.kind === 'image' ? 500 : 1000))));
      const seed = Math.floor(opts.seed ?? 1);
      const D = data.dim;
      let realLabels: tf.Tensor2D | undefined;
      let fakeLabels: tf.Tensor2D | undefined;
      const codes = m.noise(n, seed);
      try {
        if (m.conditional) {
          const C = m.classes ?? 0;
          need(data.val.y && C > 0, `lab.views.discriminatorHistogram: a ${m.family} judges an example with its class; ${data.name} has no labels`);
          const buf = new Float32Array(n * C);
          for (let i = 0; i < n; i++) buf[i * C + data.val.y![i]] = 1;
          realLabels = tf.tensor2d(buf, [n, C]);
          // a conditional model's codes end with the one-hot class of the row
          fakeLabels = tf.slice(codes, [0, codes.shape[1] - C], [n, C]) as tf.Tensor2D;
        }
        const fake = await readAndDispose(await m.sample(n, codes));
        need(fake.length === n * D, `lab.views.discriminatorHistogram: the ${m.family} generates ${fake.length / n} values per example and ${data.name} has ${D}: use the data it was trained on`);
        const dr = await criticValues(m, data.val.x.subarray(0, n * D), D, realLabels);
        const df = await criticValues(m, fake, D, fakeLabels);
        let right = 0;
        for (const v of dr) if (v > threshold) right++;
        for (const v of df) if (v < threshold) right++;
        const accuracy = right / (2 * n);
        const meanReal = meanOf(dr);
        const meanFake = meanOf(df);
        const name = prob ? 'D(x)' : 'critic(x)';
        const bins = prob ? { xbins: { start: 0, end: 1, size: 0.02 } } : { nbinsx: 60 };
        emit({
          type: 'plot',
          data: [
            { type: 'histogram', x: Array.from(dr, (v) => round(v)), name: `real (validation), mean ${meanReal.toFixed(3)}`, opacity: 0.6, marker: { color: '#1f6feb' }, ...bins },
            { type: 'histogram', x: Array.from(df, (v) => round(v)), name: `generated, mean ${meanFake.toFixed(3)}`, opacity: 0.6, marker: { color: '#d1495b' }, ...bins },
          ],
          layout: {
            barmode: 'overlay',
            title: { text: `${m.family}: ${name} on ${n} real and ${n} generated examples; accuracy at ${threshold} = ${(100 * accuracy).toFixed(1)}%` },
            xaxis: { title: { text: prob ? 'D(x) = P(real)' : 'critic score' }, ...(prob ? { range: [0, 1] } : {}) },
            yaxis: { title: { text: 'examples' } },
            shapes: [{ type: 'line', xref: 'x', yref: 'paper', x0: threshold, x1: threshold, y0: 0, y1: 1, line: { dash: 'dash', color: '#555', width: 1 } }],
            legend: { x: 0.01, y: 0.99, bgcolor: 'rgba(255,255,255,0.8)' },
            height: 360,
          },
          caption: prob
            ? 'at the game’s optimum p_g = p_data, D(x) = ½ everywhere and both histograms sit on the dashed line; far apart = D wins easily'
            : 'a critic’s scores have no fixed midpoint: read the gap between the two histograms (the Wasserstein estimate for a WGAN), not their position',
        });
        return { meanReal, meanFake, accuracy, threshold, n, criticKind: m.criticKind };
      } finally {
        tf.dispose([codes, ...(realLabels ? [realLabels] : []), ...(fakeLabels ? [fakeLabels] : [])]);
      }
    },
  };
}
