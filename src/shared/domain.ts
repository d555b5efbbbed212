// Domain types shared by every process. Each is a zod schema so that anything
// crossing a process boundary can be parsed on the receiving side.
import { z } from 'zod';

export const BackendName = z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'webgpu']);
export type BackendName = z.infer<typeof BackendName>;

export const EngineInfo = z.object({
  status: z.enum(['starting', 'idle', 'busy', 'stopped', 'crashed']),
  backend: z.string().nullable(), // tf.getBackend() of the running engine
  available: z.array(z.string()), // backends that loaded on this machine, best first
  preferred: z.string().nullable(), // the user's choice, null = best available
  detail: z.string().optional(), // e.g. "wasm (SIMD, 2 threads)" or why a backend did not load
  label: z.string().optional(), // the backend with its device, e.g. "webgpu · SwiftShader"
});
export type EngineInfo = z.infer<typeof EngineInfo>;

/**
 * One notebook's kernel: each notebook has its own variables (its own vm context in the
 * one engine process). queued: its cell waits while another notebook's cell runs.
 */
export const KernelState = z.object({
  notebook: z.string(),
  status: z.enum(['not started', 'idle', 'queued', 'busy']),
  /** cells run in this kernel since it started (Jupyter's In [n]) */
  executionCount: z.number().int().nonnegative(),
  /** the names its cells defined, alive now */
  variables: z.array(z.string()),
});
export type KernelState = z.infer<typeof KernelState>;

// crashed: the engine or the host died under the run (killed, out of memory);
// diverged: a metric became NaN/infinite and the run stopped at that step
export const RunStatus = z.enum(['running', 'finished', 'stopped', 'failed', 'crashed', 'diverged']);
export type RunStatus = z.infer<typeof RunStatus>;

/** What kind of number an evaluation is (see MODELS.md ground rules). */
export const MetricKind = z.enum(['loss', 'exact', 'bound', 'estimate', 'sample', 'info']);

export const MetricPoint = z.object({
  key: z.string().min(1).max(200), // e.g. "train/loss", "val/elbo"
  step: z.number().int().nonnegative(),
  value: z.number(), // NaN / Infinity are rejected by the engine before they get here
  wallTime: z.number(), // ms since epoch
});
export type MetricPoint = z.infer<typeof MetricPoint>;

export const RunRecord = z.object({
  id: z.string().min(1).max(100),
  notebook: z.string(), // workspace-relative path of the notebook ('' for scripts)
  cell: z.string(), // cell id
  name: z.string(),
  family: z.string(), // 'vae', 'gan', ...
  config: z.record(z.string(), z.unknown()), // model + training options
  code: z.string(), // snapshot of the cell source
  dataFingerprint: z.string(),
  dataName: z.string(),
  seed: z.number().int(),
  backend: z.string(),
  status: RunStatus,
  steps: z.number().int().nonnegative(), // steps done so far
  totalSteps: z.number().int().nonnegative(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  heartbeat: z.number().nullable(),
  error: z.string().nullable(),
  /** last value of each metric key, filled by the tracker */
  finalMetrics: z.record(z.string(), z.number()).default({}),
  /** true: the user renamed the run, and its name is shown as it is (shared/run-names.ts) */
  renamed: z.boolean().optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

export const ArtifactKind = z.enum(['samples', 'scatter2d', 'image', 'reconstructions', 'interpolation']);
export const Artifact = z.object({
  runId: z.string(),
  step: z.number().int().nonnegative(),
  kind: ArtifactKind,
  seed: z.number().int().nullable(),
  /** path relative to <workspace>/.latentlab/artifacts, always with '/' separators */
  path: z.string().regex(/^[A-Za-z0-9_.\-/]+$/).refine((p) => !p.split('/').includes('..'), 'no ..'),
  meta: z.record(z.string(), z.unknown()).default({}),
});
export type Artifact = z.infer<typeof Artifact>;

export const Checkpoint = z.object({
  runId: z.string(),
  step: z.number().int().nonnegative(),
  path: z.string(),
  reason: z.enum(['periodic', 'best', 'final']),
  metricKey: z.string().nullable(),
  metricValue: z.number().nullable(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** What a cell prints. Saved into the .ipynb as nbformat outputs. */
export const CellOutput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({
    type: z.literal('error'),
    name: z.string(),
    message: z.string(),
    line: z.number().int().nullable(), // 1-based line in the cell source
    stack: z.string().optional(),
  }),
  z.object({ type: z.literal('run'), runId: z.string() }), // a live run view
  // `key`: a later output of the same execution with the same key replaces this one (live views)
  z.object({ type: z.literal('image'), path: z.string(), caption: z.string().optional(), key: z.string().optional() }),
  // the runs one lab.sweep trained, with a button to compare them
  z.object({ type: z.literal('sweep'), sweepId: z.string(), name: z.string(), runIds: z.array(z.string()) }),
  // a sound under artifacts (a .wav file), with a player
  z.object({ type: z.literal('audio'), path: z.string(), caption: z.string().optional() }),
  // a Plotly figure (the views: densities, histograms, sliders); saved as Jupyter's plotly mime type
  z.object({
    type: z.literal('plot'),
    data: z.array(z.record(z.string(), z.unknown())).max(200),
    layout: z.record(z.string(), z.unknown()),
    /** animation frames (a slider / play button steps through them: GAN Lab's single updates, DDPM's reverse chain) */
    frames: z.array(z.record(z.string(), z.unknown())).max(200).optional(),
    caption: z.string().optional(),
    key: z.string().optional(),
  }),
]);
export type CellOutput = z.infer<typeof CellOutput>;

/** `outputs` with `out` added: an output whose key an earlier one has replaces it in place. */
export function mergeOutput(outputs: CellOutput[], out: CellOutput): CellOutput[] {
  const key = 'key' in out ? out.key : undefined;
  if (key !== undefined) {
    const i = outputs.findIndex((o) => 'key' in o && o.key === key);
    if (i >= 0) return [...outputs.slice(0, i), out, ...outputs.slice(i + 1)];
  }
  return [...outputs, out];
}

export const ExecStatus = z.enum(['queued', 'running', 'ok', 'error', 'interrupted']);
export type ExecStatus = z.infer<typeof ExecStatus>;

// --- notebooks (nbformat 4.5, the subset we read and write) ---
const Source = z.union([z.string(), z.array(z.string())]);
export const NbOutput = z.object({ output_type: z.string() }).passthrough();
export const NbCell = z.object({
  id: z.string().optional(),
  cell_type: z.enum(['code', 'markdown', 'raw']),
  source: Source,
  metadata: z.record(z.string(), z.unknown()).default({}),
  outputs: z.array(NbOutput).optional(),
  execution_count: z.number().int().nullable().optional(),
});
export const Notebook = z.object({
  nbformat: z.literal(4),
  nbformat_minor: z.number().int(),
  metadata: z.record(z.string(), z.unknown()).default({}),
  cells: z.array(NbCell),
});
export type NbCell = z.infer<typeof NbCell>;
export type Notebook = z.infer<typeof Notebook>;

/** problem: why the file does not parse (it opens read-only); family: its sidebar group (shared/families.ts) */
export const NotebookEntry = z.object({ path: z.string(), title: z.string(), problem: z.string().optional(), family: z.string().optional() });
export type NotebookEntry = z.infer<typeof NotebookEntry>;

export const SeriesData = z.object({
  key: z.string(),
  steps: z.array(z.number()),
  values: z.array(z.number()),
  /** wall-clock ms of each point (for a wall-time axis) */
  times: z.array(z.number()).optional(),
});
export type SeriesData = z.infer<typeof SeriesData>;
