// `latentlab serve`: the headless host. Static files of the built renderer,
// artifact files, and the LabApi over one WebSocket, on 127.0.0.1 with a
// random token in the URL (as Jupyter does).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleWireRequest } from '../../shared/channel';
import { ExportError, exportEnv, renderExport } from '../services/exports';
import type { LabService } from '../services/lab-service';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.ttf': 'font/ttf', '.woff': 'font/woff', '.woff2': 'font/woff2', '.wasm': 'application/wasm', '.map': 'application/json',
  '.ipynb': 'application/json', '.bin': 'application/octet-stream', '.wav': 'audio/wav',
};

export interface ServeOptions {
  service: LabService;
  rendererDir: string;
  port?: number; // 0 = any free port
  host?: string;
  token?: string;
}

export interface RunningServer {
  url: string; // with ?token=
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

function sameToken(a: string | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Serves one file below root, or 404 (never a path outside root). */
function sendFile(res: ServerResponse, root: string, rel: string): void {
  const abs = resolve(root, normalize(rel).replace(/^([/\\])+/, ''));
  if (!(abs === root || abs.startsWith(root + sep)) || !existsSync(abs) || !statSync(abs).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(abs)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  createReadStream(abs)
    .on('error', () => res.destroy())
    .pipe(res);
}

export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const host = opts.host ?? '127.0.0.1';
  const { service } = opts;
  const rendererRoot = resolve(opts.rendererDir);
  const artifactsRoot = resolve(service.workspace.artifactsDir);
  if (!existsSync(join(rendererRoot, 'index.html'))) {
    throw new Error(`the renderer is not built (${rendererRoot}/index.html is missing): run \`npm run build\``);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    try {
      route(req, res);
    } catch {
      // e.g. a malformed %-escape in the path: answer, never crash the host
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad request');
    }
  });
  const route = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (url.pathname.startsWith('/artifacts/')) {
      if (!sameToken(url.searchParams.get('token'), token)) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('bad or missing token');
        return;
      }
      sendFile(res, artifactsRoot, decodeURIComponent(url.pathname.slice('/artifacts/'.length)));
      return;
    }
    if (url.pathname.startsWith('/export/')) {
      if (!sameToken(url.searchParams.get('token'), token)) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('bad or missing token');
        return;
      }
      const q = Object.fromEntries(url.searchParams);
      renderExport(service.tracker, service.workspace.artifactsDir, url.pathname.slice('/export/'.length), (q.runs ?? '').split(',').filter(Boolean), q, exportEnv())
        .then((e) => {
          res.writeHead(200, { 'content-type': e.contentType, 'content-disposition': `attachment; filename="${e.filename}"`, 'content-length': e.body.length });
          res.end(req.method === 'HEAD' ? undefined : e.body);
        })
        .catch((err: Error) => {
          res.writeHead(err instanceof ExportError ? 400 : 500, { 'content-type': 'text/plain; charset=utf-8' }).end(err.message);
        });
      return;
    }
    const path = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    sendFile(res, rendererRoot, path);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      socket.destroy();
      return;
    }
    const origin = req.headers.origin;
    const originOk = !origin || /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(origin) || origin.endsWith(`//${req.headers.host}`);
    if (url.pathname !== '/ws' || !sameToken(url.searchParams.get('token'), token) || !originOk) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    const unsubscribe = service.subscribe((event, payload) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
    });
    ws.on('message', async (data) => {
      const res = await handleWireRequest(service.handlers(), data.toString());
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(res));
    });
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
  });

  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(opts.port ?? 0, host, () => r());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
