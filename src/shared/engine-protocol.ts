// The protocol between the host (main process / serve host) and the engine
// process (Electron utilityProcess or Node child_process). Both sides parse
// every message with these schemas.
import { z } from 'zod';
import { Artifact, CellOutput, Checkpoint, ExecStatus, MetricKind, MetricPoint, RunRecord } from './domain';

export const HostToEngine = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    workspace: z.string(), // absolute workspace dir
    artifactsDir: z.string(), // absolute <workspace>/.latentlab/artifacts
    backend: z.string().nullable(), // preferred backend, null = best available
  }),
  z.object({
    type: z.literal('execute'),
    execId: z.string(),
    notebook: z.string(),
    cellId: z.string(),
    code: z.string(),
    /**
     * Resume this run: the cell's first lab.train continues it from the checkpoint
     * (a manifest path relative to artifactsDir) at `step`.
     */
    resume: z
      .object({
        runId: z.string(),
        step: z.number().int().nonnegative(),
        checkpoint: z.string(),
        bestValue: z.number().nullable(),
        /** the length the run was started with: the resumed run goes on to it */
        totalSteps: z.number().int().positive().optional(),
      })
      .optional(),
  }),
  z.object({ type: z.literal('interrupt') }),
  /** Drops one notebook's kernel (its variables and tensors); the engine answers with its own 'kernel.reset'. */
  z.object({ type: z.literal('kernel.reset'), notebook: z.string() }),
  /** A notebook was renamed: its kernel (variables, tensors) goes on under the new path. */
  z.object({ type: z.literal('kernel.rename'), from: z.string(), to: z.string() }),
  z.object({ type: z.literal('shutdown') }),
]);
export type HostToEngine = z.infer<typeof HostToEngine>;

export const EngineToHost = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    backend: z.string(),
    available: z.array(z.string()),
    detail: z.string().optional(),
    /** the backend with its device: 'webgpu · NVIDIA H100 80GB HBM3' */
    label: z.string().optional(),
  }),
  z.object({ type: z.literal('output'), execId: z.string(), output: CellOutput }),
  /** `variables`: the names the notebook's cells have defined in its kernel, after this cell */
  z.object({ type: z.literal('done'), execId: z.string(), status: ExecStatus, variables: z.array(z.string()).optional() }),
  /** A notebook's kernel was dropped: how many of its tensors were disposed, how many tensors the engine holds now. */
  z.object({ type: z.literal('kernel.reset'), notebook: z.string(), disposedTensors: z.number().int(), numTensors: z.number().int() }),
  /** A run began: the host inserts it into the tracker. */
  z.object({ type: z.literal('run.start'), run: RunRecord }),
  /** A batch of metric points: the host writes it in one transaction. */
  z.object({ type: z.literal('run.metrics'), runId: z.string(), points: z.array(MetricPoint), steps: z.number().int() }),
  /**
   * Evaluations of a run after it ended (lab.evaluate): recorded on the finished run;
   * `kinds` (sample metrics: 'sample') are added to its config.metricKinds.
   */
  z.object({ type: z.literal('run.eval'), runId: z.string(), points: z.array(MetricPoint), kinds: z.record(z.string(), MetricKind).optional() }),
  /** A file the engine wrote under artifactsDir. */
  z.object({ type: z.literal('run.artifact'), artifact: Artifact }),
  z.object({ type: z.literal('run.checkpoint'), checkpoint: Checkpoint }),
  /** A run continues from its checkpoint at `step`: the host drops what it logged after it and marks it running. */
  z.object({ type: z.literal('run.resume'), runId: z.string(), step: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('run.end'),
    runId: z.string(),
    // crashed: the GPU was lost under the run (the host marks runs of a dead engine crashed itself)
    status: z.enum(['finished', 'stopped', 'failed', 'diverged', 'crashed']),
    steps: z.number().int(),
    error: z.string().nullable(),
  }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
]);
export type EngineToHost = z.infer<typeof EngineToHost>;
