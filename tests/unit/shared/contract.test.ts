import { describe, expect, it } from 'vitest';
import type { LabHandlers } from '../../../src/shared/api';
import { dispatch, handleWireRequest, parseEvent } from '../../../src/shared/channel';
import { EngineToHost, HostToEngine } from '../../../src/shared/engine-protocol';

// A handler table that records what reached it: a rejected message must never get here.
function recordingHandlers() {
  const calls: string[] = [];
  const handlers = new Proxy({} as LabHandlers, {
    get: (_t, name: string) => async (input: unknown) => {
      calls.push(name);
      if (name === 'notebooks.list') return { notebooks: [] };
      if (name === 'notebook.write') return { ok: true };
      return input;
    },
  });
  return { handlers, calls };
}

describe('LabApi contract', () => {
  it('dispatches a valid request to its handler', async () => {
    const { handlers, calls } = recordingHandlers();
    const r = await dispatch(handlers, 'notebooks.list', {});
    expect(r).toEqual({ ok: true, output: { notebooks: [] } });
    expect(calls).toEqual(['notebooks.list']);
  });

  it('rejects unknown requests, bad inputs and paths escaping the workspace without calling a handler', async () => {
    const { handlers, calls } = recordingHandlers();
    const unknown = await dispatch(handlers, 'fs.rm', { path: '/' });
    expect(unknown).toMatchObject({ ok: false, error: expect.stringContaining('unknown request') });
    const bad = await dispatch(handlers, 'kernel.execute', { notebook: 'a.ipynb', code: 42 });
    expect(bad).toMatchObject({ ok: false, error: expect.stringContaining('bad input for kernel.execute') });
    const escape = await dispatch(handlers, 'notebook.read', { path: '../../etc/passwd' });
    expect(escape).toMatchObject({ ok: false, error: expect.stringContaining('inside the workspace') });
    const notNb = await dispatch(handlers, 'notebook.write', { path: 'x.ipynb', notebook: { nbformat: 3, cells: [] } });
    expect(notNb.ok).toBe(false);
    expect(calls).toEqual([]);
  });

  it('answers a malformed wire frame with an error instead of throwing', async () => {
    const { handlers, calls } = recordingHandlers();
    expect(await handleWireRequest(handlers, '{not json')).toEqual({ id: -1, ok: false, error: 'message is not JSON' });
    expect(await handleWireRequest(handlers, JSON.stringify({ id: 'x', name: 1 }))).toMatchObject({ id: -1, ok: false });
    expect(await handleWireRequest(handlers, JSON.stringify({ id: 7, name: 'notebooks.list', input: {} }))).toEqual({
      id: 7, ok: true, output: { notebooks: [] },
    });
    expect(calls).toEqual(['notebooks.list']);
  });

  it('turns a handler exception into an error result', async () => {
    const handlers = { 'runs.get': async () => { throw new Error('no run r1'); } } as unknown as LabHandlers;
    expect(await dispatch(handlers, 'runs.get', { id: 'r1' })).toEqual({ ok: false, error: 'no run r1' });
  });

  it('drops malformed events', () => {
    expect(parseEvent('run.metrics', { runId: 'r', points: [{ key: 'k', step: 1, value: 2, wallTime: 3 }] })).not.toBeNull();
    expect(parseEvent('run.metrics', { runId: 'r', points: [{ key: 'k', step: -1, value: 2, wallTime: 3 }] })).toBeNull();
    expect(parseEvent('no.such.event', {})).toBeNull();
  });

  it('parses engine protocol messages in both directions', () => {
    expect(HostToEngine.safeParse({ type: 'execute', execId: 'e', notebook: 'n', cellId: 'c', code: '1' }).success).toBe(true);
    expect(HostToEngine.safeParse({ type: 'execute', execId: 'e' }).success).toBe(false);
    expect(HostToEngine.safeParse({ type: 'rm -rf' }).success).toBe(false);
    expect(EngineToHost.safeParse({ type: 'done', execId: 'e', status: 'ok' }).success).toBe(true);
    expect(
      EngineToHost.safeParse({ type: 'run.artifact', artifact: { runId: 'r', step: 1, kind: 'samples', seed: 1, path: '../../x.png' } }).success,
    ).toBe(false);
  });
});
