// The one contract between the UI and the host (Electron main or `latentlab serve`).
// The IPC adapter, the WebSocket adapter and the renderer client are all derived
// from this table: a new call is one entry here plus its handler.
import { z } from 'zod';
import {
  Artifact, CellOutput, Checkpoint, EngineInfo, ExecStatus, KernelState, MetricPoint, Notebook,
  NotebookEntry, RunRecord, SeriesData,
} from './domain';
import { InspectInput, InspectOutput } from './data-import';
import { EXPORT_CHOICE_NAMES, type ExportParams } from './exports';

const Ok = z.object({ ok: z.literal(true) });
const RelPath = z
  .string()
  .min(1)
  .max(500)
  .refine((p) => !p.split(/[\\/]/).includes('..') && !p.startsWith('/'), 'path must stay inside the workspace');

export const requests = {
  'workspace.info': {
    input: z.object({}),
    output: z.object({ path: z.string(), name: z.string(), artifactBase: z.string() }),
  },
  'notebooks.list': { input: z.object({}), output: z.object({ notebooks: z.array(NotebookEntry) }) },
  /**
   * A notebook that does not parse opens read-only: `readOnly` says why, and the
   * notebook holds the cells that did parse (or the file's text as a raw cell).
   * `trusted: false`: its code does not run until `notebook.trust`.
   */
  'notebook.read': {
    input: z.object({ path: RelPath }),
    output: z.object({ notebook: Notebook, readOnly: z.string().nullable().default(null), trusted: z.boolean().default(true) }),
  },
  /** refused over an existing file that does not parse (it is never overwritten) */
  'notebook.write': { input: z.object({ path: RelPath, notebook: Notebook }), output: Ok },
  /** The user trusts the notebook's code as it is on disk now, so its cells may run. */
  'notebook.trust': { input: z.object({ path: RelPath }), output: z.object({ trusted: z.boolean() }) },
  // --- managing notebooks (workspace.ts): a bad name, an existing file or a path outside the workspace is refused with why ---
  /** A new notebook (title heading + an empty code cell), trusted: it is the user's own. `name` gets .ipynb if missing. */
  'notebook.create': { input: z.object({ name: RelPath, title: z.string().max(200).optional() }), output: z.object({ path: z.string() }) },
  /** A copy beside it (`<name> copy.ipynb` unless `name`), trusted when the original is. */
  'notebook.duplicate': { input: z.object({ path: RelPath, name: RelPath.optional() }), output: z.object({ path: z.string() }) },
  /** Renames a notebook; it keeps its trust and its runs follow it (their notebook path). Refused while its cell runs. */
  'notebook.rename': { input: z.object({ path: RelPath, name: RelPath }), output: z.object({ path: z.string(), runsMoved: z.number() }) },
  /** Moves a notebook to .latentlab/trash (recoverable); its runs stay. Refused while its cell runs. */
  'notebook.delete': { input: z.object({ path: RelPath }), output: z.object({ trash: z.string() }) },
  /** Runs one cell in the engine; resolves when it ends. Outputs stream as `cell.output`. */
  'kernel.execute': {
    input: z.object({
      notebook: z.string().max(500),
      cellId: z.string().min(1).max(100),
      code: z.string().max(1_000_000),
    }),
    output: z.object({ executionId: z.string(), status: ExecStatus, outputs: z.array(CellOutput) }),
  },
  /** Stops the running cell (and its training run, which ends as 'stopped'); with `notebook`, only that notebook's cells. */
  'kernel.interrupt': { input: z.object({ notebook: z.string().max(500).optional() }), output: Ok },
  /**
   * With `notebook` (and no backend): restarts that notebook's kernel only (its variables and
   * tensors go, other notebooks keep theirs). Otherwise a new engine process (e.g. another
   * backend): clears every notebook's variables.
   */
  'kernel.restart': { input: z.object({ backend: z.string().nullable().optional(), notebook: z.string().max(500).optional() }), output: EngineInfo },
  /** a notebook's kernel; without `notebook`, every kernel that holds variables or runs */
  'kernel.state': { input: z.object({ notebook: z.string().max(500).optional() }), output: z.object({ kernels: z.array(KernelState) }) },
  'engine.info': { input: z.object({}), output: EngineInfo },
  'runs.list': {
    input: z.object({ notebook: z.string().optional(), limit: z.number().int().positive().max(10_000).optional() }),
    output: z.object({ runs: z.array(RunRecord) }),
  },
  'runs.get': {
    input: z.object({ id: z.string().min(1) }),
    output: z.object({ run: RunRecord, checkpoints: z.array(Checkpoint), metricKeys: z.array(z.string()) }),
  },
  /** Curves, downsampled in SQL to at most maxPoints per key (min/max buckets). */
  'runs.metrics': {
    input: z.object({
      id: z.string().min(1),
      keys: z.array(z.string()).optional(),
      maxPoints: z.number().int().min(10).max(100_000).optional(),
    }),
    output: z.object({ series: z.array(SeriesData) }),
  },
  'runs.artifacts': {
    input: z.object({ id: z.string().min(1), kind: z.string().optional() }),
    output: z.object({ artifacts: z.array(Artifact) }),
  },
  /** The user's name for a run ('' gives back the made name); shown as it is from then on. */
  'runs.rename': { input: z.object({ id: z.string().min(1), name: z.string().max(200) }), output: z.object({ run: RunRecord }) },
  /** Deletes a run that is not running, with its artifacts and checkpoints on disk. Emits `run.deleted`. */
  'runs.delete': { input: z.object({ id: z.string().min(1) }), output: z.object({ removed: z.number() }) },
  /** Imports a dataset as lab.data.load would and writes its preview (Import dialog); bad data → `error`. */
  'data.inspect': { input: InspectInput, output: InspectOutput },
  /**
   * Resumes a crashed/stopped/failed/diverged run from its newest checkpoint: its
   * recorded cell code runs again and its lab.train continues the run (what the dead
   * run logged after the checkpoint is dropped). Resolves when that execution ends.
   */
  'runs.resume': {
    input: z.object({ id: z.string().min(1) }),
    output: z.object({ executionId: z.string(), status: ExecStatus, outputs: z.array(CellOutput) }),
  },
} as const;

export const events = {
  'cell.output': z.object({ notebook: z.string(), cellId: z.string(), executionId: z.string(), output: CellOutput }),
  'cell.status': z.object({ notebook: z.string(), cellId: z.string(), executionId: z.string(), status: ExecStatus }),
  'run.updated': z.object({ run: RunRecord }),
  /** a run was deleted (runs.delete): every window drops it */
  'run.deleted': z.object({ runId: z.string() }),
  /** the workspace's notebooks changed (created, renamed, deleted): windows list them again */
  'notebooks.changed': z.object({ renamed: z.object({ from: z.string(), to: z.string() }).optional(), deleted: z.string().optional() }),
  'run.metrics': z.object({ runId: z.string(), points: z.array(MetricPoint) }),
  'run.artifact': z.object({ artifact: Artifact }),
  'engine.status': EngineInfo,
  'kernel.state': KernelState,
  /** the desktop's File → Export menu: an export of the runs on screen, for the renderer to carry out (it knows which runs are open) */
  'app.export': z.object({ choice: z.enum(EXPORT_CHOICE_NAMES) }),
} as const;

export type Requests = typeof requests;
export type RequestName = keyof Requests;
export type EventName = keyof typeof events;
export type Input<N extends RequestName> = z.input<Requests[N]['input']>;
export type Output<N extends RequestName> = z.infer<Requests[N]['output']>;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

/** What a host implements: one async handler per request. */
export type LabHandlers = { [N in RequestName]: (input: z.infer<Requests[N]['input']>) => Promise<Output<N>> };

/** What the renderer gets, whichever host it runs against. */
export interface LabApi {
  call<N extends RequestName>(name: N, input: Input<N>): Promise<Output<N>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** URL the renderer can put in <img src> for an artifact path (lab:// or http). */
  artifactUrl(path: string): string;
  /**
   * URL of an export of runs (./exports) for a download link: the browser host answers
   * it with an attachment, the desktop's lab:// protocol too (Electron then asks where
   * to save it).
   */
  exportUrl(request: ExportParams): string;
}

export const isRequestName = (n: unknown): n is RequestName => typeof n === 'string' && Object.hasOwn(requests, n);
export const isEventName = (n: unknown): n is EventName => typeof n === 'string' && Object.hasOwn(events, n);
