// The renderer's LabApi: over the preload bridge on the desktop, over a
// WebSocket in the browser. Both parse every response and event with the
// shared schemas, so the UI never sees an unchecked message.
import type { EventName, EventPayload, LabApi, RequestName } from '../../../shared/api';
import { parseEvent, parseOutput, WireEvent, WireResponse } from '../../../shared/channel';
import { exportQuery } from '../../../shared/exports';

/** What src/preload exposes as window.latentlab. */
export interface PreloadBridge {
  invoke(name: string, input: unknown): Promise<{ ok: true; output: unknown } | { ok: false; error: string }>;
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
  artifactBase: string; // 'lab://artifacts/'
}

declare global {
  interface Window {
    latentlab?: PreloadBridge;
  }
}

type Listener = (payload: unknown) => void;

class Emitter {
  private listeners = new Map<string, Set<Listener>>();
  on(event: string, l: Listener): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(l);
    this.listeners.set(event, set);
    return () => set.delete(l);
  }
  emit(event: unknown, payload: unknown): void {
    const parsed = parseEvent(event, payload);
    if (!parsed) return; // unknown or malformed event: dropped, never crashes the UI
    for (const l of this.listeners.get(parsed.event) ?? []) l(parsed.payload);
  }
}

export function createBridgeApi(bridge: PreloadBridge): LabApi {
  const emitter = new Emitter();
  bridge.subscribe((event, payload) => emitter.emit(event, payload));
  return {
    async call(name, input) {
      const res = await bridge.invoke(name, input);
      if (!res.ok) throw new Error(res.error);
      return parseOutput(name, res.output) as never;
    },
    on: (event, listener) => emitter.on(event, listener as Listener),
    artifactUrl: (path) => bridge.artifactBase + path.split('/').map(encodeURIComponent).join('/'),
    exportUrl: (request) => `lab://export/${exportQuery(request)}`,
  };
}

export function createWebSocketApi(origin: string, token: string): LabApi {
  const emitter = new Emitter();
  const pending = new Map<number, { name: RequestName; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let opened: Promise<WebSocket> | null = null;

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    const wsUrl = origin.replace(/^http/, 'ws') + '/ws?token=' + encodeURIComponent(token);
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      ws.onopen = () => {
        socket = ws;
        resolve(ws);
      };
      ws.onerror = () => reject(new Error('cannot reach the Latent Lab host at ' + origin));
      ws.onclose = () => {
        socket = null;
        opened = null;
        for (const p of pending.values()) p.reject(new Error('connection to the host closed'));
        pending.clear();
        emitter.emit('engine.status', { status: 'stopped', backend: null, available: [], preferred: null, detail: 'disconnected from host' });
      };
      ws.onmessage = (m) => {
        let msg: unknown;
        try {
          msg = JSON.parse(String(m.data));
        } catch {
          return;
        }
        const ev = WireEvent.safeParse(msg);
        if (ev.success) return emitter.emit(ev.data.event, ev.data.payload);
        const res = WireResponse.safeParse(msg);
        if (!res.success) return;
        const p = pending.get(res.data.id);
        if (!p) return;
        pending.delete(res.data.id);
        if (!res.data.ok) return p.reject(new Error(res.data.error));
        try {
          p.resolve(parseOutput(p.name, res.data.output));
        } catch (e) {
          p.reject(e as Error);
        }
      };
    });
    return opened;
  };

  return {
    async call(name, input) {
      const ws = socket ?? (await connect());
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { name, resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, name, input }));
      }) as never;
    },
    on(event, listener) {
      void connect().catch(() => undefined);
      return emitter.on(event, listener as Listener);
    },
    artifactUrl: (path) =>
      origin + '/artifacts/' + path.split('/').map(encodeURIComponent).join('/') + '?token=' + encodeURIComponent(token),
    exportUrl: (request) => `${origin}/export/${exportQuery(request)}&token=${encodeURIComponent(token)}`,
  };
}

let api: LabApi | null = null;
/** The one LabApi of this window. */
export function getApi(): LabApi {
  if (api) return api;
  if (window.latentlab) api = createBridgeApi(window.latentlab);
  else {
    const token = new URLSearchParams(window.location.search).get('token') ?? '';
    api = createWebSocketApi(window.location.origin, token);
  }
  return api;
}

export type { EventName, EventPayload };
