// One channel mechanism for every transport (Electron IPC, WebSocket, tests).
// The host side validates every request with its schema; a bad message gets a
// clear error result and never reaches a handler.
import { z } from 'zod';
import { events, isEventName, isRequestName, requests, type EventName, type LabHandlers, type RequestName } from './api';

export const WireRequest = z.object({ id: z.number().int(), name: z.string(), input: z.unknown() });
export const WireResponse = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), output: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string() }),
]);
export const WireEvent = z.object({ event: z.string(), payload: z.unknown() });
export type WireResponse = z.infer<typeof WireResponse>;

export class ApiError extends Error {}

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
}

/** Validates and dispatches one request. Never throws: every failure becomes {ok:false}. */
export async function dispatch(handlers: LabHandlers, name: unknown, input: unknown): Promise<{ ok: true; output: unknown } | { ok: false; error: string }> {
  if (!isRequestName(name)) return { ok: false, error: `unknown request: ${String(name).slice(0, 100)}` };
  const parsed = requests[name].input.safeParse(input ?? {});
  if (!parsed.success) return { ok: false, error: `bad input for ${name}: ${describe(parsed.error)}` };
  try {
    const handler = handlers[name] as (i: unknown) => Promise<unknown>;
    const output = await handler(parsed.data);
    return { ok: true, output };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Parses a raw frame from a client into a response (for transports carrying JSON text). */
export async function handleWireRequest(handlers: LabHandlers, raw: unknown): Promise<WireResponse> {
  let msg: unknown = raw;
  if (typeof raw === 'string') {
    try {
      msg = JSON.parse(raw);
    } catch {
      return { id: -1, ok: false, error: 'message is not JSON' };
    }
  }
  const req = WireRequest.safeParse(msg);
  if (!req.success) return { id: -1, ok: false, error: `bad request frame: ${describe(req.error)}` };
  return { id: req.data.id, ...(await dispatch(handlers, req.data.name, req.data.input)) };
}

/** Validates an event before it is emitted (host side) or delivered (client side). */
export function parseEvent(event: unknown, payload: unknown): { event: EventName; payload: unknown } | null {
  if (!isEventName(event)) return null;
  const p = events[event].safeParse(payload);
  return p.success ? { event, payload: p.data } : null;
}

/** Parses a request's output on the client side. */
export function parseOutput(name: RequestName, output: unknown): unknown {
  const p = requests[name].output.safeParse(output);
  if (!p.success) throw new ApiError(`bad response for ${name}: ${describe(p.error)}`);
  return p.data;
}
