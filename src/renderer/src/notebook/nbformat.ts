// Conversion between nbformat 4 (what lives in the .ipynb) and the renderer's
// cell model. Pure: no React, no store, no api, so it can be unit-tested alone.
//
// Outputs map one to one, so that save → open gives back the same CellOutput:
//   text  ↔ stream (stdout)
//   error ↔ error; the 1-based cell line rides in the traceback as "at cell line N"
//   image ↔ display_data with application/vnd.latentlab.artifact+json {path, caption?}
//   run   ↔ display_data with application/vnd.latentlab.run+json {runId}
//   audio ↔ display_data with application/vnd.latentlab.audio+json {path, caption?}
//   plot  ↔ display_data with application/vnd.plotly.v1+json {data, layout, frames?} (Jupyter's own
//           plotly mime type), the caption as text/plain
// Outputs written by other tools (Jupyter execute_result, images...) come back as
// text when they carry text/plain, else as a one-line note; they are not lost
// silently, but they are not round-tripped either.
import type { CellOutput, NbCell, Notebook } from '../../../shared/domain';

export const RUN_MIME = 'application/vnd.latentlab.run+json';
export const SWEEP_MIME = 'application/vnd.latentlab.sweep+json';
export const ARTIFACT_MIME = 'application/vnd.latentlab.artifact+json';
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
export const AUDIO_MIME = 'application/vnd.latentlab.audio+json';
const LINE_MARKER = /^at cell line (\d+)$/;

export type CellType = 'code' | 'markdown' | 'raw';

export interface CellModel {
  id: string;
  type: CellType;
  source: string;
  metadata: Record<string, unknown>;
  outputs: CellOutput[];
  executionCount: number | null;
}

export interface NotebookModel {
  nbformatMinor: number;
  metadata: Record<string, unknown>;
  cells: CellModel[];
}

type NbOutput = NonNullable<NbCell['outputs']>[number];

const DEFAULT_METADATA: Record<string, unknown> = {
  kernelspec: { name: 'latentlab', display_name: 'Latent Lab (TypeScript)', language: 'typescript' },
  language_info: { name: 'typescript', file_extension: '.ts' },
};

export function newCellId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID().replace(/-/g, '').slice(0, 12);
  return Math.random().toString(36).slice(2, 14).padEnd(12, '0');
}

export function joinSource(source: string | string[] | undefined | null): string {
  if (source == null) return '';
  return Array.isArray(source) ? source.join('') : source;
}

export function cellTags(metadata: Record<string, unknown>): string[] {
  const tags = metadata.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

// ---- outputs ----

export function outputToNb(o: CellOutput): NbOutput {
  switch (o.type) {
    case 'text':
      return { output_type: 'stream', name: 'stdout', text: o.text };
    case 'error': {
      const traceback = [`${o.name}: ${o.message}`];
      if (o.line != null) traceback.push(`at cell line ${o.line}`);
      if (o.stack !== undefined) traceback.push(...o.stack.split('\n'));
      return { output_type: 'error', ename: o.name, evalue: o.message, traceback };
    }
    case 'image': {
      const ref: Record<string, string> = { path: o.path };
      if (o.caption !== undefined) ref.caption = o.caption;
      return {
        output_type: 'display_data',
        data: { 'text/plain': o.caption ?? `Latent Lab image ${o.path}`, [ARTIFACT_MIME]: ref },
        metadata: {},
      };
    }
    case 'run':
      return {
        output_type: 'display_data',
        data: { 'text/plain': `Latent Lab run ${o.runId}`, [RUN_MIME]: { runId: o.runId } },
        metadata: {},
      };
    case 'sweep':
      return {
        output_type: 'display_data',
        data: {
          'text/plain': `Latent Lab sweep ${o.name}: ${o.runIds.length} runs`,
          [SWEEP_MIME]: { sweepId: o.sweepId, name: o.name, runIds: o.runIds },
        },
        metadata: {},
      };
    case 'audio':
      return {
        output_type: 'display_data',
        data: { 'text/plain': o.caption ?? `Latent Lab audio ${o.path}`, [AUDIO_MIME]: o.caption !== undefined ? { path: o.path, caption: o.caption } : { path: o.path } },
        metadata: {},
      };
    case 'plot':
      return {
        output_type: 'display_data',
        data: { 'text/plain': o.caption ?? 'Latent Lab plot', [PLOTLY_MIME]: { data: o.data, layout: o.layout, ...(o.frames ? { frames: o.frames } : {}) } },
        metadata: {},
      };
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null =>
  typeof v === 'string' ? v : Array.isArray(v) && v.every((s) => typeof s === 'string') ? v.join('') : null;

export function outputFromNb(raw: NbOutput): CellOutput {
  const o = raw as Record<string, unknown>;
  switch (o.output_type) {
    case 'stream':
      return { type: 'text', text: str(o.text) ?? '' };
    case 'error': {
      const tb = Array.isArray(o.traceback) ? o.traceback.map(String) : [];
      const name = typeof o.ename === 'string' ? o.ename : 'Error';
      const message = typeof o.evalue === 'string' ? o.evalue : '';
      // Our own tracebacks start with "name: message"; Jupyter's may not.
      const rest = tb[0] === `${name}: ${message}` ? tb.slice(1) : tb;
      let line: number | null = null;
      const m = rest.length > 0 ? LINE_MARKER.exec(rest[0]) : null;
      if (m) {
        line = Number(m[1]);
        rest.shift();
      }
      const out: CellOutput = { type: 'error', name, message, line };
      if (rest.length > 0) out.stack = rest.join('\n');
      return out;
    }
    case 'display_data':
    case 'execute_result': {
      const data = isRecord(o.data) ? o.data : {};
      const run = data[RUN_MIME];
      if (isRecord(run) && typeof run.runId === 'string') return { type: 'run', runId: run.runId };
      const sweep = data[SWEEP_MIME];
      if (isRecord(sweep) && typeof sweep.sweepId === 'string' && Array.isArray(sweep.runIds)) {
        return { type: 'sweep', sweepId: sweep.sweepId, name: String(sweep.name ?? sweep.sweepId), runIds: sweep.runIds.map(String) };
      }
      const plot = data[PLOTLY_MIME];
      if (isRecord(plot) && Array.isArray(plot.data)) {
        const out: CellOutput = { type: 'plot', data: plot.data.filter(isRecord), layout: isRecord(plot.layout) ? plot.layout : {} };
        if (Array.isArray(plot.frames)) out.frames = plot.frames.filter(isRecord).slice(0, 200);
        const caption = str(data['text/plain']);
        if (caption !== null && caption !== 'Latent Lab plot') out.caption = caption;
        return out;
      }
      const audio = data[AUDIO_MIME];
      if (isRecord(audio) && typeof audio.path === 'string') {
        const out: CellOutput = { type: 'audio', path: audio.path };
        if (typeof audio.caption === 'string') out.caption = audio.caption;
        return out;
      }
      const art = data[ARTIFACT_MIME];
      if (isRecord(art) && typeof art.path === 'string') {
        const img: CellOutput = { type: 'image', path: art.path };
        if (typeof art.caption === 'string') img.caption = art.caption;
        return img;
      }
      const text = str(data['text/plain']);
      if (text !== null) return { type: 'text', text };
      return { type: 'text', text: `[${String(o.output_type)} output of a type Latent Lab does not show]` };
    }
    default:
      return { type: 'text', text: `[${String(o.output_type)} output of a type Latent Lab does not show]` };
  }
}

// ---- cells and notebooks ----

export function cellFromNb(c: NbCell): CellModel {
  return {
    id: c.id && c.id.length > 0 ? c.id : newCellId(),
    type: c.cell_type,
    source: joinSource(c.source),
    metadata: { ...(c.metadata ?? {}) },
    outputs: c.cell_type === 'code' ? (c.outputs ?? []).map(outputFromNb) : [],
    executionCount: c.cell_type === 'code' ? (c.execution_count ?? null) : null,
  };
}

export function cellToNb(c: CellModel): NbCell {
  if (c.type === 'code') {
    return {
      id: c.id,
      cell_type: 'code',
      source: c.source,
      metadata: { ...c.metadata },
      outputs: c.outputs.map(outputToNb),
      execution_count: c.executionCount,
    };
  }
  return { id: c.id, cell_type: c.type, source: c.source, metadata: { ...c.metadata } };
}

export function notebookFromNb(nb: Notebook): NotebookModel {
  const seen = new Set<string>();
  const cells = nb.cells.map((c) => {
    const cell = cellFromNb(c);
    // Cell ids must be unique in nbformat 4.5; repair duplicates from hand-edited files.
    while (seen.has(cell.id)) cell.id = newCellId();
    seen.add(cell.id);
    return cell;
  });
  return { nbformatMinor: nb.nbformat_minor, metadata: { ...(nb.metadata ?? {}) }, cells };
}

export function notebookToNb(model: NotebookModel): Notebook {
  const metadata = { ...model.metadata };
  for (const [k, v] of Object.entries(DEFAULT_METADATA)) if (!(k in metadata)) metadata[k] = v;
  return {
    nbformat: 4,
    // Cell ids need nbformat 4.5 or later.
    nbformat_minor: Math.max(5, model.nbformatMinor),
    metadata,
    cells: model.cells.map(cellToNb),
  };
}

export function newCell(type: CellType, source = ''): CellModel {
  return { id: newCellId(), type, source, metadata: {}, outputs: [], executionCount: null };
}
