// Checkpoints: one binary file of float32 weights + a JSON manifest naming each slice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { NamedWeight } from '../models/types';

export interface CheckpointManifest {
  format: 'latentlab-checkpoint-1';
  runId: string;
  step: number;
  reason: 'periodic' | 'best' | 'final';
  family: string;
  config: Record<string, unknown>;
  metricKey: string | null;
  metricValue: number | null;
  /** file name of the weights, next to the manifest */
  weightsFile: string;
  weights: { name: string; shape: number[]; dtype: 'float32'; offset: number; length: number }[];
}

/** A weight holds NaN or ±Infinity: the checkpoint is refused (the run diverged). */
export class NonFiniteWeightsError extends Error {
  constructor(readonly weight: string, readonly step: number) {
    super(`weight ${weight} is not finite at step ${step}`);
    this.name = 'NonFiniteWeightsError';
  }
}

/**
 * The newest periodic/final checkpoint of a run on disk (`<runId>/checkpoints/step-NNNNNN.json`),
 * as a path relative to the artifacts dir, with the best checkpoint's value when it is not newer.
 */
export function latestCheckpointOnDisk(artifactsDir: string, runId: string): { step: number; checkpoint: string; bestValue: number | null } | null {
  const dir = path.join(artifactsDir, runId, 'checkpoints');
  if (!fs.existsSync(dir)) return null;
  const steps = fs
    .readdirSync(dir)
    .map((f) => /^step-(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  if (steps.length === 0) return null;
  const step = steps[0];
  let bestValue: number | null = null;
  try {
    const best = JSON.parse(fs.readFileSync(path.join(dir, 'best.json'), 'utf8')) as CheckpointManifest;
    if (best.step <= step) bestValue = best.metricValue;
  } catch {
    /* no best checkpoint */
  }
  return { step, checkpoint: `${runId}/checkpoints/step-${String(step).padStart(6, '0')}.json`, bestValue };
}

/** Writes `<artifactsDir>/<relDir>/<base>.bin|.json`; returns the manifest's relative path. */
export async function saveCheckpoint(
  artifactsDir: string,
  relDir: string,
  base: string,
  weights: NamedWeight[],
  meta: Omit<CheckpointManifest, 'format' | 'weightsFile' | 'weights'>,
): Promise<string> {
  const dir = path.join(artifactsDir, relDir);
  fs.mkdirSync(dir, { recursive: true });
  const entries: CheckpointManifest['weights'] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  // every weight's read is queued before the first is awaited (one wait on a GPU)
  const values = await Promise.all(weights.map((w) => w.tensor.data()));
  for (const [k, w] of weights.entries()) {
    const raw = values[k];
    // an int32 tensor (an optimizer's step counter) is stored as float32 values, not its int32 bits
    const data = raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>);
    // a diverged model is never saved: the last good checkpoint stays the newest
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new NonFiniteWeightsError(w.name, meta.step);
    }
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    entries.push({ name: w.name, shape: w.tensor.shape.slice(), dtype: 'float32', offset, length: data.length });
    parts.push(Buffer.from(buf));
    offset += buf.length;
  }
  const manifest: CheckpointManifest = { format: 'latentlab-checkpoint-1', ...meta, weightsFile: `${base}.bin`, weights: entries };
  // written aside and renamed into place: a kill mid-write never leaves a torn checkpoint
  // (the manifest goes last, so a manifest always has its weights)
  writeAtomic(path.join(dir, `${base}.bin`), Buffer.concat(parts));
  writeAtomic(path.join(dir, `${base}.json`), JSON.stringify(manifest, null, 2));
  return `${relDir}/${base}.json`;
}

/** Reads a checkpoint manifest (absolute path); the caller disposes the tensors. */
export function loadCheckpoint(manifestPath: string): { manifest: CheckpointManifest; weights: NamedWeight[] } {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
  if (manifest.format !== 'latentlab-checkpoint-1') throw new Error(`not a Latent Lab checkpoint: ${manifestPath}`);
  const bin = fs.readFileSync(path.join(path.dirname(manifestPath), manifest.weightsFile));
  const weights = manifest.weights.map((e) => {
    const arr = new Float32Array(e.length);
    Buffer.from(arr.buffer).set(bin.subarray(e.offset, e.offset + e.length * 4));
    return { name: e.name, tensor: tf.tensor(arr, e.shape) };
  });
  return { manifest, weights };
}

function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    // a failed write (a full disk) leaves neither a temp file nor half a checkpoint
    fs.rmSync(tmp, { force: true });
    throw new Error(`could not write the checkpoint ${file}: ${(e as Error).message}`);
  }
}
