// `npm run bench [-- --json] [-- --quick] [-- --backends wasm,cpu] [-- --models a,b] [-- --rounds N] [-- --tracker-only]`
// Trains the reference set (src/bench/reference-tf.ts) for a fixed number of steps
// after warm-up on every backend the engine can load, and the same models in
// PyTorch on the CPU (src/bench/torch_reference.py, Debian's python3-torch) in the
// same run, the two taking turns for N rounds (default 3; the median counts);
// then a large matmul against the machine's BLAS; then the tracker at 1,000,000
// metric points (src/bench/tracker-scale.ts: runs list, compare curves, write
// stalls; --tracker-only for that part alone). Prints a table (or one JSON
// object with --json). Numbers, not pass/fail.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backend/select';
import { probeWebgpu } from '../engine/backend/webgpu';
import { appRoot } from '../main/services/paths';
import { REFERENCE_SET } from './reference-tf';
import { trackerBench } from './tracker-scale';

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

/**
 * PyTorch twins in one long-lived python process (torch_reference.py --serve),
 * asked for one timing at a time, so that its rounds interleave with ours and a
 * machine that speeds up or slows down affects both sides of a ratio alike.
 */
class TorchPeer {
  private child: ChildProcessWithoutNullStreams | null = null;
  private lines: AsyncIterableIterator<string> | null = null;
  note: string | null = null;

  /** whether the tfjs side runs on a GPU (the twin then defaults to CUDA) */
  constructor(private readonly gpu = false) {}

  async start(): Promise<boolean> {
    const script = join(appRoot(), 'src', 'bench', 'torch_reference.py');
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const args = [script, '--serve'];
    const threads = option('--torch-threads');
    if (threads) args.push('--threads', threads);
    // the PyTorch twin's device: 'auto' (CUDA where PyTorch sees a GPU) when tfjs runs on webgpu, else the CPU
    args.push('--device', option('--torch-device') ?? (this.gpu ? 'auto' : 'cpu'));
    let stderr = '';
    try {
      const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('error', (e) => (stderr += e.message));
      this.child = child;
      this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const hello = await this.lines.next();
      if (hello.done) throw new Error('exited');
      const h = JSON.parse(hello.value) as { torch: string; threads: number; device?: string; device_name?: string };
      this.note = h.device && h.device !== 'cpu' ? `PyTorch ${h.torch} on ${h.device} (${h.device_name})` : `PyTorch ${h.torch} on the CPU, ${h.threads} intra-op thread(s) (its BLAS picks its own)`;
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
      const why = /No module named 'torch'/.test(stderr) ? 'PyTorch is not installed (apt-get install python3-torch libopenblas0-pthread)' : (stderr.trim().split('\n').pop() || 'python3 did not start');
      this.note = `PyTorch skipped: ${why}`;
      this.stop();
      return false;
    }
  }

  async ask<T>(request: object): Promise<T | null> {
    if (!this.child || !this.lines) return null;
    this.child.stdin.write(JSON.stringify(request) + '\n');
    const r = await this.lines.next();
    if (r.done) return null;
    const out = JSON.parse(r.value) as T & { error?: string };
    if (out.error) throw new Error(out.error);
    return out;
  }

  stop(): void {
    this.child?.stdin.end();
    this.child = null;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

async function gemmGflops(m = 1024): Promise<number> {
  const a = tf.randomNormal([m, m], 0, 1, 'float32', 1);
  const b = tf.randomNormal([m, m], 0, 1, 'float32', 2);
  const { n, dt } = await timed(
    async () => {
      // completion is forced by reading back one element, not the 4 MB product
      // (PyTorch's A @ B is timed without a copy out either)
      const c = tf.matMul(a, b);
      const corner = tf.slice(c, [0, 0], [1, 1]);
      await corner.data();
      tf.dispose([c, corner]);
    },
    2, quick ? 2 : 5, quick ? 0.3 : 1, 10,
  );
  tf.dispose([a, b]);
  return (2 * m ** 3 * n) / dt / 1e9;
}

async function main(): Promise<void> {
  if (flag('--tracker-only')) {
    const tracker = trackerBench(log);
    if (json) process.stdout.write(JSON.stringify({ tracker }) + '\n');
    return;
  }
  const first = await selectBackend(option('--backend') ?? null);
  // by default every backend that loaded, but webgpu on a software adapter only when named
  const gpu = await probeWebgpu();
  const backends = option('--backends')?.split(',') ?? first.available.filter((b) => b !== 'webgpu' || gpu.adapter?.software === false);
  log(`tfjs backends: ${first.available.join(', ')} (${first.detail})`);
  // a GPU on the tfjs side: the PyTorch twin runs on CUDA where it has one (--torch-device overrides)
  const torch = new TorchPeer(backends.includes('webgpu') && gpu.adapter?.software === false);
  await torch.start();
  log(torch.note!);
  const rounds = Math.max(1, Number(option('--rounds') ?? (quick ? 1 : 3)));
  log(`each figure: the median of ${rounds} round(s), tfjs and PyTorch taking turns`);

  const rows: Row[] = [];
  let bestGemm = 0;
  let bestGemmBackend = '';
  for (const backend of backends) {
    const sel = await selectBackend(backend);
    if (sel.backend !== backend) {
      log(`${backend}: not available here`);
      continue;
    }
    // the plain-JS cpu backend and a software GPU are orders of magnitude slower: fewer steps and one round there
    const slow = backend === 'cpu' || (backend === 'webgpu' && gpu.adapter?.software === true);
    const budget = slow || quick ? { warmup: 1, min_steps: slow ? 1 : 2, min_seconds: 0.5, max_seconds: slow ? 30 : 5 } : { warmup: 3, min_steps: 10, min_seconds: 2, max_seconds: 20 };
    for (const name of models) {
      const make = REFERENCE_SET[name];
      if (!make) throw new Error(`unknown model ${name}; the reference set is ${Object.keys(REFERENCE_SET).join(', ')}`);
      const model = make();
      let row: Row;
      try {
        const ours: number[] = [];
        const theirs: number[] = [];
        const ratios: number[] = [];
        for (let r = 0; r < (slow ? 1 : rounds); r++) {
          const peer = await torch.ask<{ samples_per_s: number }>({ model: name, ...(slow || quick ? { warmup: 1, min_steps: 3, min_seconds: 0.5, max_seconds: 5 } : budget) });
          const { n, dt } = await timed(() => model.step(), r === 0 ? budget.warmup : 1, budget.min_steps, budget.min_seconds, budget.max_seconds);
          ours.push((n * model.batch) / dt);
          if (peer) {
            theirs.push(peer.samples_per_s);
            ratios.push(ours[r] / peer.samples_per_s);
          }
        }
        const sps = median(ours);
        row = {
          model: name, backend: sel.label, samples_per_s: sps, ms_per_step: (1000 * model.batch) / sps,
          peak_rss_mb: process.resourceUsage().maxRSS / 1024, torch_samples_per_s: theirs.length ? median(theirs) : null, ratio: ratios.length ? median(ratios) : null,
        };
        if (flag('--profile')) log(await profile(() => model.step()));
      } catch (e) {
        row = {
          model: name, backend: sel.label, samples_per_s: null, ms_per_step: null, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
          torch_samples_per_s: null, ratio: null, note: String((e as Error).message).split('\n')[0],
        };
      } finally {
        model.dispose();
      }
      rows.push(row);
      log(fmtRow(row));
    }
    const g = await gemmGflops();
    log(`  gemm 1024³ on ${sel.label}: ${g.toFixed(1)} GFLOP/s`);
    if (g > bestGemm) [bestGemm, bestGemmBackend] = [g, sel.label];
  }
  const blas = (await torch.ask<{ gflops: number }>({ gemm: 1024, min_seconds: quick ? 0.3 : 1 }))?.gflops ?? null;
  torch.stop();
  const gemm = { gflops: bestGemm, backend: bestGemmBackend, blas_gflops: blas };
  log(`gemm 1024³: ${bestGemm.toFixed(1)} GFLOP/s (${bestGemmBackend}) vs ${blas ? blas.toFixed(1) + ' GFLOP/s PyTorch/BLAS' : 'no BLAS peer'}${blas ? ` = ${((100 * bestGemm) / blas).toFixed(0)}%` : ''}`);
  // --no-tracker: the speed rows only (the GPU check)
  const tracker = flag('--no-tracker') ? null : trackerBench(log);
  if (json) process.stdout.write(JSON.stringify({ rows, gemm, torch: torch.note, webgpu: gpu.adapter ?? gpu.reason, tracker }) + '\n');
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
  // small rates (the plain-JS backend) keep two significant digits
  const n = (v: number | null, d = 0) => (v === null ? '—' : v < 10 && d === 0 ? v.toPrecision(2) : v.toFixed(d));
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
