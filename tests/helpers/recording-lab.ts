// A cell's context for engine tests that look at what a cell shows: every output is
// kept as the host would accept it (parsed by the contract's CellOutput), and the
// cell can be interrupted through `controller`.
import type { EngineContext, ExecContext } from '../../src/engine/context';
import { createLab } from '../../src/engine/lab/lab';
import { CellOutput } from '../../src/shared/domain';
import { tempDir } from './engine';

export function recordingContext(notebook = 'test.ipynb') {
  const artifactsDir = tempDir();
  const outputs: CellOutput[] = [];
  const controller = new AbortController();
  const exec: ExecContext = {
    execId: 'e1', notebook, cellId: 'c1', code: '', signal: controller.signal,
    emit: (o) => outputs.push(CellOutput.parse(o)), // what the host would accept
  };
  const ctx: EngineContext = { send: () => {}, artifactsDir: () => artifactsDir, exec: () => exec };
  return { ctx, outputs, artifactsDir, controller };
}

/** the `lab` object of a cell whose outputs are recorded */
export function recordingLab(notebook?: string) {
  const { ctx, outputs, artifactsDir, controller } = recordingContext(notebook);
  return { lab: createLab(ctx), outputs, artifactsDir, controller };
}
