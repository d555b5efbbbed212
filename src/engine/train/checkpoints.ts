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

/** Writes `<artifactsDir>/<relDir>/<base>.bin|.json`; returns the manifest's relative path. */
export function saveCheckpoint(
  artifactsDir: string,
  relDir: string,
  base: string,
  weights: NamedWeight[],
  meta: Omit<CheckpointManifest, 'format' | 'weightsFile' | 'weights'>,
): string {
  const dir = path.join(artifactsDir, relDir);
  fs.mkdirSync(dir, { recursive: true });
  const entries: CheckpointManifest['weights'] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const w of weights) {
    const data = w.tensor.dataSync() as Float32Array;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    entries.push({ name: w.name, shape: w.tensor.shape.slice(), dtype: 'float32', offset, length: data.length });
    parts.push(Buffer.from(buf));
    offset += buf.length;
  }
  const manifest: CheckpointManifest = { format: 'latentlab-checkpoint-1', ...meta, weightsFile: `${base}.bin`, weights: entries };
  fs.writeFileSync(path.join(dir, `${base}.bin`), Buffer.concat(parts));
  fs.writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(manifest, null, 2));
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
