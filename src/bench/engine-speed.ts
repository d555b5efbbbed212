// `npm run bench`: training and sampling speed of the example models on the
// engine's backend, through the same trainer the notebooks use (metric
// streaming, evaluation and sample grids included). Prints one line per case
// and a JSON summary; numbers, not pass/fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backend/select';
import type { EngineContext } from '../engine/context';
import { imageDataset } from '../engine/data/mnist';
import { toy2d } from '../engine/data/toy2d';
import type { Dataset } from '../engine/data/types';
import { Gan } from '../engine/models/gan';
import type { Model } from '../engine/models/types';
import { Vae } from '../engine/models/vae';
import { train } from '../engine/train/trainer';

interface Case {
  name: string;
  model: () => Model;
  data: () => Dataset;
  batchSize: number;
  steps: number;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');

const cases: Case[] = [
  {
    name: 'vae-mnist (example: [512,256], latent 16, batch 128)',
    model: () => new Vae({ latentDim: 16, hidden: [512, 256], likelihood: 'bernoulli' }),
    data: () => imageDataset('mnist', { binarize: true }),
    batchSize: 128,
    steps: quick ? 30 : 200,
  },
  {
    name: 'gan-8gaussians (example: [128,128], latent 2, batch 256)',
    model: () => new Gan({ latentDim: 2, hidden: [128, 128], loss: 'nonsaturating' }),
    data: () => toy2d('8gaussians'),
    batchSize: 256,
    steps: quick ? 50 : 500,
  },
];

async function main(): Promise<void> {
  const sel = await selectBackend();
  const dir = mkdtempSync(join(tmpdir(), 'latentlab-bench-'));
  const ctx: EngineContext = { send: () => undefined, artifactsDir: () => dir, exec: () => null };
  const results: Record<string, unknown>[] = [];
  console.log(`backend: ${sel.detail}`);
  try {
    for (const c of cases) {
      const data = c.data();
      const model = c.model();
      // as in the notebooks: evaluation and a sample grid every 200 steps
      const t0 = performance.now();
      await train(ctx, model, data, { steps: c.steps, batchSize: c.batchSize, evalEvery: 200, sampleEvery: 200, checkpointEvery: 1_000_000, seed: 1 });
      const trainS = (performance.now() - t0) / 1000;
      // generation alone: batches of 1000 draws from the trained model
      const reps = quick ? 2 : 10;
      tf.tidy(() => model.sample(1000)).dispose();
      const s0 = performance.now();
      for (let i = 0; i < reps; i++) {
        const x = model.sample(1000, undefined, i);
        await x.data();
        x.dispose();
      }
      const sampleS = (performance.now() - s0) / 1000;
      const r = {
        case: c.name,
        backend: sel.backend,
        steps: c.steps,
        stepsPerSec: c.steps / trainS,
        examplesPerSec: (c.steps * c.batchSize) / trainS,
        samplesPerSec: (reps * 1000) / sampleS,
      };
      results.push(r);
      console.log(
        `${c.name}: ${r.stepsPerSec.toFixed(2)} steps/s, ${r.examplesPerSec.toFixed(0)} training examples/s, ${r.samplesPerSec.toFixed(0)} generated samples/s`,
      );
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'engine-speed', results }));
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
