// "Nobody in" for `latentlab serve`, against a real server on a real port: every
// HTTP and WebSocket request needs the token (query, or the cookie the first good
// request sets), the Host header must be the server's own (DNS rebinding), a
// WebSocket from a foreign origin is refused, and no request path, encoded or not,
// reads a file outside the artifacts folder. Requests are written by hand on a raw
// socket, so no client normalizes the paths first.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nodeEngineLauncher } from '../../../../src/main/host/node-engine';
import { safeFile, serve, type RunningServer } from '../../../../src/main/host/server';
import { LabService } from '../../../../src/main/services/lab-service';
import { examplesDir, rendererDir } from '../../../../src/main/services/paths';
import { TrustStore } from '../../../../src/main/services/trust';
import { Workspace } from '../../../../src/main/services/workspace';

let top: string; // holds the workspace and, next to it, a secret
let wsDir: string;
let service: LabService;
let server: RunningServer;
let port: number;
let asset: string;
const SECRET = `secret-${randomBytes(12).toString('hex')}`;
const SECRET2 = `inside-${randomBytes(12).toString('hex')}`;

beforeAll(async () => {
  top = mkdtempSync(join(tmpdir(), 'latentlab-sec-'));
  wsDir = join(top, 'ws');
  mkdirSync(wsDir);
  writeFileSync(join(top, 'secret.txt'), SECRET);
  const ws = new Workspace(wsDir, { trust: new TrustStore(join(top, 'config')) });
  ws.init(examplesDir());
  // in the workspace but outside the artifacts folder: not served either
  writeFileSync(join(ws.dataDir, 'secret.txt'), SECRET2);
  mkdirSync(join(ws.artifactsDir, 'r1'), { recursive: true });
  writeFileSync(join(ws.artifactsDir, 'r1', 'grid.png'), 'png-bytes');
  // links that lead outside: a file and a folder
  symlinkSync(join(top, 'secret.txt'), join(ws.artifactsDir, 'r1', 'link.png'));
  symlinkSync(top, join(ws.artifactsDir, 'outside'));
  service = new LabService({ workspace: ws, launcher: nodeEngineLauncher() });
  server = await serve({ service, rendererDir: rendererDir(), port: 0 });
  port = server.port;
  asset = readdirSync(join(rendererDir(), 'assets')).find((f) => f.endsWith('.js'))!;
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(top, { recursive: true, force: true });
});

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** One request written byte for byte: the path goes out exactly as given. */
function raw(path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = netConnect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d) => (data += d));
    sock.on('error', reject);
    sock.on('end', () => {
      const at = data.indexOf('\r\n\r\n');
      const head = at >= 0 ? data.slice(0, at) : data;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : 0, headers: head, body: at >= 0 ? data.slice(at + 4) : '' });
    });
    const h = { Host: `127.0.0.1:${port}`, Connection: 'close', ...headers };
    sock.write(`GET ${path} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`, 'latin1');
  });
}

const tok = () => server.token;

describe('the token guards every HTTP request', () => {
  it('binds 127.0.0.1 by default', () => {
    expect((server.server.address() as AddressInfo).address).toBe('127.0.0.1');
  });

  it('answers 403 without the token or with a wrong one, 200 with it', async () => {
    const paths = ['/', '/index.html', `/assets/${asset}`, '/artifacts/r1/grid.png', '/export/metrics?runs=r1'];
    for (const p of paths) {
      const sep = p.includes('?') ? '&' : '?';
      expect((await raw(p)).status, `${p} without token`).toBe(403);
      expect((await raw(`${p}${sep}token=wrong`)).status, `${p} with a wrong token`).toBe(403);
      expect((await raw(`${p}${sep}token=${tok().slice(0, -1)}`)).status, `${p} with a token one short`).toBe(403);
      expect((await raw(p, { Cookie: `latentlab-token-${port}=nope` })).status, `${p} with a wrong cookie`).toBe(403);
      // the static files and artifacts are served; an export of an unknown run is a 400 (it got past the guard)
      const good = await raw(`${p}${sep}token=${tok()}`);
      expect(good.status, `${p} with the token`).toBe(p.startsWith('/export/') ? 400 : 200);
    }
    const page = await raw('/index.html?token=' + tok());
    expect(page.body).toContain('<div id="root">');
    expect(page.headers).toMatch(/content-security-policy: [^\r]*script-src 'self' 'wasm-unsafe-eval'/i);
    expect(page.headers).not.toMatch(/unsafe-eval'[^\r]*'unsafe-eval/);
    expect(page.headers).toMatch(/referrer-policy: no-referrer/i);
  });

  it('sets an HttpOnly SameSite=Strict cookie on a good request, and the page\'s own requests pass with it', async () => {
    const first = await raw(`/?token=${tok()}`);
    const m = /set-cookie: ([^\r\n]+)/i.exec(first.headers);
    expect(m).not.toBeNull();
    const cookie = m![1];
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    const pair = cookie.split(';')[0];
    expect(pair).toBe(`latentlab-token-${port}=${tok()}`);
    for (const p of ['/', '/index.html', `/assets/${asset}`, '/artifacts/r1/grid.png']) {
      expect((await raw(p, { Cookie: pair })).status, p).toBe(200);
      expect((await raw(p, { Cookie: `other=1; ${pair}` })).status, `${p} among other cookies`).toBe(200);
    }
    expect((await raw('/artifacts/r1/grid.png', { Cookie: pair })).body).toBe('png-bytes');
    // a bad request sets no cookie
    expect((await raw('/?token=wrong')).headers).not.toMatch(/set-cookie/i);
  });

  it('refuses a Host header other than its own (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `127.0.0.1.evil.example:${port}`, '']) {
      const r = await raw(`/?token=${tok()}`, { Host: host });
      expect(r.status, `Host: ${host}`).toBe(403);
      expect(r.body).not.toContain('<div id="root">');
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await raw(`/?token=${tok()}`, { Host: host })).status, `Host: ${host}`).toBe(200);
    }
  });
});

function wsTry(path: string, headers: Record<string, string> = {}): Promise<'open' | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('error', (e) => resolve(e.message));
    ws.once('unexpected-response', (_req, res) => {
      resolve(`refused ${res.statusCode}`);
      ws.terminate();
    });
  });
}

describe('the WebSocket at /ws', () => {
  it('accepts the token from its own origin, or from a client that sends no Origin', async () => {
    expect(await wsTry(`/ws?token=${tok()}`)).toBe('open');
    expect(await wsTry(`/ws?token=${tok()}`, { Origin: `http://127.0.0.1:${port}` })).toBe('open');
    expect(await wsTry('/ws', { Origin: `http://127.0.0.1:${port}`, Cookie: `latentlab-token-${port}=${tok()}` })).toBe('open');
  });

  it('refuses foreign origins (another localhost port is one), bad tokens and other paths', async () => {
    const foreign = [`http://127.0.0.1:${port + 1}`, 'http://localhost:3000', 'http://evil.example', `https://127.0.0.1:${port}`, 'null', `http://127.0.0.1:${port}.evil.example`];
    for (const origin of foreign) expect(await wsTry(`/ws?token=${tok()}`, { Origin: origin }), origin).toBe('refused 403');
    expect(await wsTry('/ws?token=wrong')).toBe('refused 403');
    expect(await wsTry('/ws')).toBe('refused 403');
    expect(await wsTry(`/other?token=${tok()}`)).toBe('refused 403');
    expect(await wsTry(`/ws/../ws?token=${tok()}`, { Host: `evil.example:${port}` })).toBe('refused 403');
    expect(await wsTry(`/ws?token=${tok()}`, { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` })).toBe('refused 403');
  });
});

/** every spelling of '..' and '/' we could think of, at depths 1..5 */
function traversalPaths(): string[] {
  const dots = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '%c0%ae%c0%ae', '..%00', '%2e%2e%00'];
  const slashes = ['/', '%2f', '%2F', '%5c', '\\', '%252f', '%c0%af', '//'];
  const targets = ['secret.txt', 'ws/.latentlab/secret.txt', '.latentlab/secret.txt', 'secret.txt%00.png', 'etc/passwd'];
  const out = new Set<string>();
  for (const d of dots) {
    for (const s of slashes) {
      for (let depth = 1; depth <= 5; depth++) {
        for (const t of targets) {
          const up = Array.from({ length: depth }, () => d + s).join('');
          out.add(`/artifacts/${up}${t}`);
          out.add(`/artifacts/r1/${up}${t}`);
          if (depth >= 3) out.add(`/${up}${t}`);
        }
      }
    }
  }
  const absSecret = join(top, 'secret.txt');
  for (const p of [
    `/artifacts/${absSecret}`, `/artifacts/${encodeURIComponent(absSecret)}`, `/artifacts//${absSecret}`, '/artifacts/%2fetc%2fpasswd',
    '/artifacts/r1/link.png', '/artifacts/outside/secret.txt', '/artifacts/outside/ws/.latentlab/secret.txt', '/artifacts/outside%2fsecret.txt',
    '/artifacts/./../secret.txt', '/artifacts/r1/./grid.png/../../secret.txt', '/artifacts/....//....//secret.txt', '/artifacts/..;/secret.txt',
    '/artifacts/C:%5cWindows%5cwin.ini', '/artifacts/r1/grid.png%00', '/artifacts/%00', '/artifacts/', '/artifacts', '/artifacts/r1/',
    `http://127.0.0.1:${port}/../secret.txt`, '/../../../../../../etc/passwd', '/..%2f..%2f..%2fsecret.txt', '*',
  ]) out.add(p);
  return [...out];
}

describe('artifacts only from the artifacts folder', () => {
  it('never serves a file outside it, however the path is spelled', async () => {
    const paths = traversalPaths();
    const statuses: Record<number, number> = {};
    for (const p of paths) {
      const r = await raw(`${p}${p.includes('?') ? '&' : '?'}token=${tok()}`);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      expect([400, 403, 404], `${p} → ${r.status}`).toContain(r.status);
      expect(r.body, p).not.toContain(SECRET);
      expect(r.body, p).not.toContain(SECRET2);
      expect(r.body, p).not.toMatch(/root:.*:0:0:/);
    }
    console.log(`traversal: ${paths.length} raw request paths tried; statuses ${JSON.stringify(statuses)}`);
    expect(paths.length).toBeGreaterThan(1000);
    // the host is still up and still serves the real artifact
    expect((await raw(`/artifacts/r1/grid.png?token=${tok()}`)).body).toBe('png-bytes');
  });

  it('safeFile resolves real paths below the root only', () => {
    const root = service.workspace.artifactsDir;
    expect(safeFile(root, 'r1/grid.png')).toBe(join(root, 'r1', 'grid.png'));
    expect(safeFile(root, 'r1%2Fgrid.png')).toBe(join(root, 'r1', 'grid.png')); // one decode: an encoded '/' inside is fine
    for (const bad of ['r1/link.png', 'outside/secret.txt', '../secret.txt', '%2e%2e/secret.txt', 'r1/../r1/grid.png', '/etc/passwd', 'r1\\grid.png', 'r1/grid.png\0', '%E0%A4%A']) {
      expect(safeFile(root, bad), bad).toBeNull();
    }
  });
});
