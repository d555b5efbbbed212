// What a code cell printed: text, errors, images and live runs.
import type { CellOutput } from '../../../shared/domain';
import { getApi } from '../api/client';
import { openCompare } from '../actions';
import { RunView } from '../runs/RunView';
import { PlotOutput } from './PlotOutput';
import { StopNote } from './StopNote';

type Block = { kind: 'text'; text: string; key: string } | { kind: 'other'; out: Exclude<CellOutput, { type: 'text' }>; key: string };

/** Consecutive text outputs read as one stream. */
function blocks(outputs: CellOutput[]): Block[] {
  const out: Block[] = [];
  outputs.forEach((o, i) => {
    const last = out[out.length - 1];
    if (o.type === 'text') {
      if (last && last.kind === 'text') last.text += o.text.endsWith('\n') || last.text.endsWith('\n') || last.text === '' ? o.text : '\n' + o.text;
      else out.push({ kind: 'text', text: o.text, key: `t${i}` });
    } else out.push({ kind: 'other', out: o, key: o.type === 'run' ? `run-${o.runId}` : 'key' in o && o.key ? `key-${o.key}` : `${o.type}${i}` });
  });
  return out;
}

/** the run a stop note is about: the last live run the cell showed */
function stoppedRun(outputs: CellOutput[]): string | null {
  if (!outputs.some((o) => o.type === 'error' && o.name === 'Interrupted')) return null;
  const runs = outputs.filter((o) => o.type === 'run');
  const last = runs[runs.length - 1];
  return last && last.type === 'run' ? last.runId : null;
}

export function CellOutputs({ outputs }: { outputs: CellOutput[] }) {
  if (outputs.length === 0) return null;
  const stopped = stoppedRun(outputs);
  return (
    <div className="outputs">
      {blocks(outputs).map((b) => {
        if (b.kind === 'text') return <pre key={b.key} className="out-text">{b.text}</pre>;
        const o = b.out;
        switch (o.type) {
          case 'error':
            // a stop is what the user asked for: a calm note with Resume, not an error
            if (o.name === 'Interrupted') return <StopNote key={b.key} message={o.message} runId={stopped} />;
            return (
              <div key={b.key} className="out-error" data-testid="cell-error">
                <div className="out-error-title">
                  {o.name}: {o.message}
                </div>
                {o.line != null && <div className="out-error-line">line {o.line}</div>}
                {o.stack && (
                  <details>
                    <summary>stack</summary>
                    <pre>{o.stack}</pre>
                  </details>
                )}
              </div>
            );
          case 'image':
            return (
              <figure key={b.key} className="out-image">
                <img src={getApi().artifactUrl(o.path)} alt={o.caption ?? o.path} data-testid="output-image" />
                {o.caption && <figcaption>{o.caption}</figcaption>}
              </figure>
            );
          case 'run':
            return <RunView key={b.key} runId={o.runId} compact hideResume={o.runId === stopped} />;
          case 'audio':
            return (
              <figure key={b.key} className="out-audio">
                <audio controls preload="metadata" src={getApi().artifactUrl(o.path)} data-testid="output-audio" />
                {o.caption && <figcaption>{o.caption}</figcaption>}
              </figure>
            );
          case 'plot':
            return <PlotOutput key={b.key} data={o.data} layout={o.layout} frames={o.frames} caption={o.caption} />;
          case 'sweep':
            return (
              <div key={b.key} className="out-sweep" data-testid="sweep-output">
                <span>
                  Sweep <b>{o.name}</b> · {o.runIds.length} run{o.runIds.length === 1 ? '' : 's'}
                </span>
                <button
                  className="ll-btn ll-small"
                  data-testid="sweep-compare"
                  disabled={o.runIds.length < 2}
                  title={o.runIds.length > 8 ? 'Compare the first 8 runs (the parallel-coordinates plot shows them all)' : 'Compare these runs'}
                  onClick={() => openCompare(o.runIds.slice(0, 8))}
                >
                  Compare
                </button>
              </div>
            );
        }
      })}
    </div>
  );
}
