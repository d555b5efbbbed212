// `npm run bench [-- --json] [-- --quick] [-- --backends wasm,cpu] [-- --models a,b]`
// Trains the reference set (src/bench/reference-tf.ts) for a fixed number of steps
// after warm-up on every backend the engine can load, and the same models in
// PyTorch on the CPU (src/bench/torch_reference.py, Debian's python3-torch) in the
// same run; then a large matmul against the machine's BLAS. Prints a table (or
// one JSON object with --json). Numbers, not pass/fail.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backend/select';
import { appRoot } from '../main/services/paths';
import { REFERENCE_SET } from './reference-tf';

interface Row {
  model: string;
  backend: string;
  samples_per_s: number | null;
  ms_per_step: number | null;
  peak_rss_mb: number;
  torch_samples_per_s: number | null;
  ratio: number | null;
  note?: string;
}

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const json = flag('--json');
const quick = flag('--quick');
const models = (option('--models') ?? Object.keys(REFERENCE_SET).join(',')).split(',');
const log = (s: string) => {
  if (!json) process.stdout.write(s + '\n');
  else process.stderr.write(s + '\n');
};

/** Warm-up, then at least minSteps steps and minSeconds seconds (at most maxSeconds). */
async function timed(step: () => Promise<unknown>, warmup: number, minSteps: number, minSeconds: number, maxSeconds: number) {
  for (let i = 0; i < warmup; i++) await step();
  let n = 0;
  const t0 = performance.now();
  for (;;) {
    await step();
    n++;
    const dt = (performance.now() - t0) / 1000;
    if ((n >= minSteps && dt >= minSeconds) || dt >= maxSeconds) return { n, dt };
  }
}

function torchReference(): { rows: Record<string, number>; gemm: number | null; threads: number | null; note: string | null } {
  const script = join(appRoot(), 'src', 'bench', 'torch_reference.py');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const args = [script, '--models', models.join(',')];
  if (quick) args.push('--min-steps', '3', '--min-seconds', '0.5', '--max-seconds', '5');
  const threads = option('--torch-threads');
  if (threads) args.push('--threads', threads);
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const why = /No module named 'torch'/.test(r.stderr) ? 'PyTorch is not installed (apt-get install python3-torch libopenblas0-pthread)' : (r.stderr || r.error?.message || 'failed').trim().split('\n').pop();
    return { rows: {}, gemm: null, threads: null, note: `PyTorch skipped: ${why}` };
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: { model: string; samples_per_s: number }[]; gemm_gflops: number; threads: number; torch: string };
  return {
    rows: Object.fromEntries(out.rows.map((x) => [x.model, x.samples_per_s])),
    gemm: out.gemm_gflops,
    threads: out.threads,
    note: `PyTorch ${out.torch} on the CPU, ${out.threads} thread(s)`,
  };
}

async function gemmGflops(m = 1024): Promise<number> {
  const a = tf.randomNormal([m, m], 0, 1, 'float32', 1);
  const b = tf.randomNormal([m, m], 0, 1, 'float32', 2);
  const { n, dt } = await timed(
    async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    },
    2, quick ? 2 : 5, quick ? 0.3 : 1, 10,
  );
  tf.dispose([a, b]);
  return (2 * m ** 3 * n) / dt / 1e9;
}

async function main(): Promise<void> {
  const first = await selectBackend(option('--backend') ?? null);
  const backends = option('--backends')?.split(',') ?? first.available;
  log(`tfjs backends: ${first.available.join(', ')} (${first.detail})`);
  const torch = torchReference();
  if (torch.note) log(torch.note);

  const rows: Row[] = [];
  let bestGemm = 0;
  let bestGemmBackend = '';
  for (const backend of backends) {
    const sel = await selectBackend(backend);
    if (sel.backend !== backend) {
      log(`${backend}: not available here`);
      continue;
    }
    // the plain-JS cpu backend is orders of magnitude slower: fewer steps there
    const slow = backend === 'cpu';
    for (const name of models) {
      const make = REFERENCE_SET[name];
      if (!make) throw new Error(`unknown model ${name}; the reference set is ${Object.keys(REFERENCE_SET).join(', ')}`);
      const model = make();
      let row: Row;
      try {
        const { n, dt } = await timed(() => model.step(), slow || quick ? 1 : 3, slow || quick ? 2 : 10, slow || quick ? 0.5 : 2, slow ? 30 : 20);
        const sps = (n * model.batch) / dt;
        const ref = torch.rows[name] ?? null;
        row = {
          model: name, backend, samples_per_s: sps, ms_per_step: (1000 * dt) / n,
          peak_rss_mb: process.resourceUsage().maxRSS / 1024, torch_samples_per_s: ref, ratio: ref ? sps / ref : null,
        };
        if (flag('--profile')) log(await profile(() => model.step()));
      } catch (e) {
        row = {
          model: name, backend, samples_per_s: null, ms_per_step: null, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
          torch_samples_per_s: torch.rows[name] ?? null, ratio: null, note: String((e as Error).message).split('\n')[0],
        };
      } finally {
        model.dispose();
      }
      rows.push(row);
      log(fmtRow(row));
    }
    const g = await gemmGflops();
    log(`  gemm 1024³ on ${backend}: ${g.toFixed(1)} GFLOP/s`);
    if (g > bestGemm) [bestGemm, bestGemmBackend] = [g, backend];
  }
  const gemm = { gflops: bestGemm, backend: bestGemmBackend, blas_gflops: torch.gemm };
  log(`gemm 1024³: ${bestGemm.toFixed(1)} GFLOP/s (${bestGemmBackend}) vs ${torch.gemm ? torch.gemm.toFixed(1) + ' GFLOP/s PyTorch/BLAS' : 'no BLAS peer'}${torch.gemm ? ` = ${((100 * bestGemm) / torch.gemm).toFixed(0)}%` : ''}`);
  if (json) process.stdout.write(JSON.stringify({ rows, gemm, torch: torch.note }) + '\n');
}

/** Where one step's time goes, by kernel (tf.profile), to see what to speed up next. */
async function profile(step: () => Promise<unknown>): Promise<string> {
  const info = await tf.profile(async () => {
    await step();
    return [];
  });
  const by = new Map<string, { n: number; ms: number }>();
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs) || 0;
    if (process.env.LATENTLAB_PROFILE_DETAIL && k.name === process.env.LATENTLAB_PROFILE_DETAIL) log(`    ${k.name} ${JSON.stringify(k.inputShapes)} ${ms.toFixed(3)} ms`);
    const e = by.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += ms;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((a, e) => a + e.ms, 0);
  const top = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.LATENTLAB_PROFILE_TOP ?? 8));
  return `  profile: ${total.toFixed(0)} ms in ${info.kernels.length} kernels; ` + top.map(([k, e]) => `${k} ×${e.n} ${e.ms.toFixed(1)} ms`).join(', ');
}

function fmtRow(r: Row): string {
  const n = (v: number | null, d = 0) => (v === null ? '—' : v.toFixed(d));
  return [
    r.model.padEnd(15), r.backend.padEnd(6),
    `${n(r.samples_per_s)} samples/s`.padStart(18), `${n(r.ms_per_step, 1)} ms/step`.padStart(16),
    `rss ${n(r.peak_rss_mb)} MB`.padStart(12), `torch ${n(r.torch_samples_per_s)}`.padStart(12), `ratio ${r.ratio === null ? '—' : r.ratio.toFixed(3)}`.padStart(12),
    r.note ? `  (${r.note})` : '',
  ].join(' ');
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
