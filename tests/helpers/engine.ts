// Shared helpers of the engine tests (not a test file itself).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineToHost } from '../../src/shared/engine-protocol';
import type { EngineContext } from '../../src/engine/context';

export function tempDir(prefix = 'latentlab-engine-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function collectingContext(artifactsDir = tempDir()): { ctx: EngineContext; messages: EngineToHost[]; artifactsDir: string } {
  const messages: EngineToHost[] = [];
  return {
    messages,
    artifactsDir,
    ctx: { send: (m) => messages.push(m), artifactsDir: () => artifactsDir, exec: () => null },
  };
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
