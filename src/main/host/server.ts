// `latentlab serve`: the headless host. Static files of the built renderer,
// artifact files, and the LabApi over one WebSocket, on 127.0.0.1 with a
// random token in the URL (as Jupyter does).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleWireRequest } from '../../shared/channel';
import { safeFile } from '../services/safe-path';
export { safeFile };
import { ExportError, exportEnv, renderExport } from '../services/exports';
import { ExportRequestError, parseExportQuery } from '../../shared/exports';
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
  /** Host header values to answer (host:port); default: this server's loopback names, or any when bound to a public address */
  allowedHosts?: string[];
}

export interface RunningServer {
  url: string; // with ?token=
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

function sameToken(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The CSP of the app's pages (the same as index.html's meta tag, as a header too). */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self' ws:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  // the token is in the page's URL: never send it on as a Referer
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

const isLoopback = (h: string) => h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);

/** The Host header values a loopback server answers to; null = any (bound to a public address, the token guards it). */
export function allowedHosts(host: string, port: number): Set<string> | null {
  if (!isLoopback(host)) return null;
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', host.includes(':') && !host.startsWith('[') ? `[${host}]` : host]);
  return new Set([...names].map((n) => `${n}:${port}`));
}

/** The cookie's name carries the port: cookies are not kept apart by port, two servers' would clash. */
export const cookieName = (port: number) => `latentlab-token-${port}`;

function cookieToken(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Serves one file (already checked by safeFile), or 404. */
function sendFile(res: ServerResponse, abs: string | null, head: boolean, extra: Record<string, string> = {}): void {
  if (!abs) {
    res.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end('not found');
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(abs)] ?? 'application/octet-stream',
    'content-length': statSync(abs).size,
    'cache-control': 'no-cache',
    ...SECURITY_HEADERS,
    ...(extname(abs) === '.html' ? { 'content-security-policy': PAGE_CSP } : {}),
    ...extra,
  });
  if (head) {
    res.end();
    return;
  }
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
  let hosts: Set<string> | null = null; // set once the port is known
  let cookie = '';

  /** null when the request may go on, else why not */
  const refusal = (req: IncomingMessage, url: URL): string | null => {
    // DNS rebinding: a loopback server answers only to its own names
    if (hosts && !hosts.has((req.headers.host ?? '').toLowerCase())) return 'bad Host header';
    if (sameToken(url.searchParams.get('token'), token)) return null;
    if (sameToken(cookieToken(req, cookie), token)) return null;
    const auth = req.headers.authorization;
    if (auth && sameToken(auth.replace(/^(token|bearer)\s+/i, ''), token)) return null;
    return 'bad or missing token';
  };

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
    const rawPath = req.url ?? '/';
    if (!rawPath.startsWith('/')) {
      // absolute-form (http://elsewhere/...) or garbage: this is not a proxy
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    const url = new URL(rawPath, 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, SECURITY_HEADERS).end();
      return;
    }
    const why = refusal(req, url);
    if (why) {
      res.writeHead(403, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end(why);
      return;
    }
    // a good token in the URL: the page's own requests (scripts, fonts, images) carry it as a cookie from now on
    const setCookie: Record<string, string> = sameToken(url.searchParams.get('token'), token)
      ? { 'set-cookie': `${cookie}=${token}; Path=/; HttpOnly; SameSite=Strict` }
      : {};
    const head = req.method === 'HEAD';
    // the raw path, not URL's normalized one: '/a/../b' is refused, not quietly rewritten
    const pathname = rawPath.split('?')[0].split('#')[0];
    if (pathname.startsWith('/artifacts/')) {
      sendFile(res, safeFile(artifactsRoot, pathname.slice('/artifacts/'.length), service.workspace.dir), head, setCookie);
      return;
    }
    if (pathname.startsWith('/export/')) {
      Promise.resolve()
        .then(() => renderExport(service.tracker, service.workspace.artifactsDir, parseExportQuery(url.pathname.slice('/export/'.length), url.searchParams), exportEnv()))
        .then((e) => {
          res.writeHead(200, { 'content-type': e.contentType, 'content-disposition': `attachment; filename="${e.filename}"`, 'content-length': e.body.length, ...SECURITY_HEADERS });
          res.end(head ? undefined : e.body);
        })
        .catch((err: Error) => {
          res.writeHead(err instanceof ExportError || err instanceof ExportRequestError ? 400 : 500, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(err.message);
        });
      return;
    }
    sendFile(res, safeFile(rendererRoot, pathname === '/' ? 'index.html' : pathname.slice(1)), head, setCookie);
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
    // a browser says where the page came from: only this server's own pages may connect
    // (a page on another localhost port is another origin); clients without an Origin
    // header are not browsers, and still need the token
    const origin = req.headers.origin;
    const originOk = origin === undefined || origin === `http://${req.headers.host ?? ''}`;
    if (url.pathname !== '/ws' || refusal(req, url) !== null || !originOk) {
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
  hosts = opts.allowedHosts ? new Set(opts.allowedHosts.map((h) => h.toLowerCase())) : allowedHosts(host, port);
  cookie = cookieName(port);
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
