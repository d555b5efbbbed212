// Exports of runs as files (an HTML or PDF report, a sample grid PNG, a GIF of the grid
// over training, the metrics CSV): one typed entry of the contract. An export travels as
// a download URL (a link the browser or Electron saves), so the renderer writes an
// ExportRequest into a query (exportQuery) and both hosts, the browser host's /export/
// and the desktop's lab://export/, read it back with parseExportQuery: one schema, one
// set of error messages, and the list of exports written once (EXPORT_CHOICES).
import { z } from 'zod';

/** a whole number from a query value; '' means not given */
const whole = (key: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      if (!/^\d+$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: `${key} takes a whole number (got '${v}')` });
        return z.NEVER;
      }
      return Number(v);
    });

/** `"a,b,c"` → labels; `"index"` → numbered */
export function parseLabels(spec: string | undefined): string[] | 'index' | undefined {
  if (spec === undefined || spec === '') return undefined;
  return spec === 'index' ? 'index' : spec.split(',').map((s) => s.trim());
}

const labels = z.string().optional().transform(parseLabels);

const runList = z
  .string()
  .optional()
  .transform((v) => (v ?? '').split(',').filter(Boolean))
  .refine((r) => r.length > 0, 'no run given');

const oneRun = (kind: string) => runList.refine((r) => r.length === 1, `a ${kind} export takes one run`);

export const ExportQuery = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('metrics'), runs: runList }),
  z.object({ kind: z.literal('report'), runs: runList, format: z.enum(['html', 'pdf'], { error: "format is 'html' or 'pdf'" }).default('html') }),
  z.object({
    kind: z.literal('grid'), runs: oneRun('grid'),
    step: whole('step'), rows: whole('rows'), cols: whole('cols'), pad: whole('pad'), scale: whole('scale'),
    rowLabels: labels, colLabels: labels,
  }),
  z.object({ kind: z.literal('gif'), runs: oneRun('gif'), scale: whole('scale'), delay: whole('delay') }),
]);

/** an export as the hosts render it */
export type ExportRequest = z.output<typeof ExportQuery>;
export type ExportKind = ExportRequest['kind'];
export const EXPORT_KINDS: readonly ExportKind[] = ExportQuery.options.map((o) => o.shape.kind.value);

/** an export as the renderer asks for it: its query values */
export type ExportParams = { kind: ExportKind; runs: string[] } & Record<string, string | number | string[] | undefined>;

export class ExportRequestError extends Error {}

/** The export a query names (the path's last part is its kind); a clear ExportRequestError when it is not one. */
export function parseExportQuery(kind: string, query: URLSearchParams): ExportRequest {
  if (!(EXPORT_KINDS as readonly string[]).includes(kind)) throw new ExportRequestError(`no export '${kind}' (${EXPORT_KINDS.join(', ')})`);
  const values: Record<string, string> = { kind };
  for (const [k, v] of query) if (k !== 'token') values[k] = v;
  const r = ExportQuery.safeParse(values);
  if (!r.success) throw new ExportRequestError(r.error.issues[0].message);
  return r.data;
}

/** `<kind>?runs=…&…`: the path and query of an export's URL */
export function exportQuery(req: ExportParams): string {
  const q = new URLSearchParams({ runs: req.runs.join(',') });
  for (const [k, v] of Object.entries(req)) if (k !== 'kind' && k !== 'runs' && v !== undefined) q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  return `${req.kind}?${q.toString()}`;
}

/** The exports the app offers (buttons, the desktop's File → Export menu), in menu order. */
export const EXPORT_CHOICES = {
  report: { label: 'Report', menu: 'Report (HTML)…', accelerator: 'CmdOrCtrl+Shift+E', request: (runs: string[]): ExportParams => ({ kind: 'report', runs }) },
  pdf: { label: 'PDF', menu: 'Report (PDF)…', accelerator: undefined, request: (runs: string[]): ExportParams => ({ kind: 'report', runs, format: 'pdf' }) },
  grid: { label: 'Grid PNG', menu: 'Sample Grid (PNG)…', accelerator: undefined, request: (runs: string[]): ExportParams => ({ kind: 'grid', runs: runs.slice(0, 1), scale: 3 }) },
  gif: { label: 'GIF', menu: 'Grid over Training (GIF)…', accelerator: undefined, request: (runs: string[]): ExportParams => ({ kind: 'gif', runs: runs.slice(0, 1), scale: 2 }) },
  metrics: { label: 'Metrics CSV', menu: 'Metrics (CSV)…', accelerator: undefined, request: (runs: string[]): ExportParams => ({ kind: 'metrics', runs }) },
} as const;
export type ExportChoice = keyof typeof EXPORT_CHOICES;
export const EXPORT_CHOICE_NAMES = Object.keys(EXPORT_CHOICES) as [ExportChoice, ...ExportChoice[]];
