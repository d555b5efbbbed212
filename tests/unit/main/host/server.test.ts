// The headless host's HTTP + WebSocket adapter, on a real port with a real
// tracker: the token guards the API and the artifacts, bad input gets an answer
// and never takes the host down.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nodeEngineLauncher } from '../../../../src/main/host/node-engine';
import { serve, type RunningServer } from '../../../../src/main/host/server';
import { LabService } from '../../../../src/main/services/lab-service';
import { examplesDir, rendererDir } from '../../../../src/main/services/paths';
import { Workspace } from '../../../../src/main/services/workspace';
import { root } from '../../../helpers/paths';

let dir: string;
let service: LabService;
let server: RunningServer;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latentlab-serve-'));
  const ws = new Workspace(dir);
  ws.init(examplesDir());
  // no cell runs here, so the engine process is never started
  service = new LabService({ workspace: ws, launcher: nodeEngineLauncher() });
  server = await serve({ service, rendererDir: rendererDir(), port: 0 });
  base = `http://127.0.0.1:${server.port}`;
  mkdirSync(join(ws.artifactsDir, 'r1'), { recursive: true });
  writeFileSync(join(ws.artifactsDir, 'r1', 'grid.png'), 'png-bytes');
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

function connect(token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${token}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function ask(ws: WebSocket, frame: unknown): Promise<{ id: number; ok: boolean; output?: unknown; error?: string }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      if ('event' in msg) return; // events interleave with answers
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  });
}

describe('latentlab serve', () => {
  it('prints a URL on 127.0.0.1 with its token and serves the built renderer', async () => {
    expect(server.url).toBe(`${base}/?token=${server.token}`);
    expect(server.token).toMatch(/^[0-9a-f]{48}$/);
    const res = await fetch(`${base}/?token=${server.token}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root">');
  });

  it('guards artifacts with the token and never serves outside its folders', async () => {
    expect((await fetch(`${base}/artifacts/r1/grid.png?token=${server.token}`)).status).toBe(200);
    expect((await fetch(`${base}/artifacts/r1/grid.png?token=wrong`)).status).toBe(403);
    expect((await fetch(`${base}/artifacts/r1/grid.png`)).status).toBe(403);
    expect((await fetch(`${base}/artifacts/..%2F..%2Ftracking.sqlite?token=${server.token}`)).status).toBe(404);
    // exports need the token too, and say what is wrong with a request
    expect((await fetch(`${base}/export/metrics?runs=r1`)).status).toBe(403);
    const unknown = await fetch(`${base}/export/metrics?runs=no-such-run&token=${server.token}`);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain("no run 'no-such-run'");
    expect((await fetch(`${base}/export/pictures?runs=r1&token=${server.token}`)).status).toBe(400);
    expect((await fetch(`${base}/..%2F..%2Fpackage.json?token=${server.token}`)).status).toBe(404);
    expect((await fetch(`${base}/%E0%A4%A?token=${server.token}`)).status).toBe(404);
    expect((await fetch(`${base}/?token=${server.token}`)).status).toBe(200); // still up
  });

  it('refuses a WebSocket without the token', async () => {
    await expect(connect('nope')).rejects.toThrow(/403/);
  });

  it('answers LabApi calls over the WebSocket, and bad frames with an error', async () => {
    const ws = await connect(server.token);
    try {
      const list = await ask(ws, { id: 1, name: 'notebooks.list', input: {} });
      expect(list).toMatchObject({ id: 1, ok: true });
      // the workspace starts with every example we ship
      const shipped = readdirSync(join(root, 'resources', 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
      expect((list.output as { notebooks: { path: string }[] }).notebooks.map((n) => n.path).sort()).toEqual(shipped);
      expect(await ask(ws, 'not json')).toEqual({ id: -1, ok: false, error: 'message is not JSON' });
      const bad = await ask(ws, { id: 2, name: 'notebook.read', input: { path: '../x.ipynb' } });
      expect(bad).toMatchObject({ id: 2, ok: false, error: expect.stringContaining('inside the workspace') });
      const runs = await ask(ws, { id: 3, name: 'runs.list', input: {} });
      expect(runs).toEqual({ id: 3, ok: true, output: { runs: [] } });
    } finally {
      ws.close();
    }
  });
});
