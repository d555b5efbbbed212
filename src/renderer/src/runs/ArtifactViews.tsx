// Sample grids and 2D scatters of a run, each with a step slider that follows
// the newest artifact until the user moves it back.
import Plotly from 'plotly.js-cartesian-dist-min';
import { useEffect, useRef, useState } from 'react';
import type { Artifact } from '../../../shared/domain';
import { reportError } from '../actions';
import { getApi } from '../api/client';

/** Index into a growing list that sticks to the end unless the user picked an older one. */
function useFollowLatest(length: number): [number, (i: number) => void] {
  const [picked, setPicked] = useState<number | null>(null);
  const index = picked === null || picked >= length ? length - 1 : picked;
  const set = (i: number) => setPicked(i >= length - 1 ? null : i);
  return [Math.max(0, index), set];
}

function StepSlider({ items, index, onChange }: { items: Artifact[]; index: number; onChange(i: number): void }) {
  const a = items[index];
  return (
    <div className="step-slider">
      {/* one picture has nothing to slide through */}
      {items.length > 1 && (
        <input type="range" min={0} max={items.length - 1} value={index} onChange={(e) => onChange(Number(e.target.value))} aria-label="step" />
      )}
      <span className="step-label" data-testid="sample-label">
        step {a.step}
        {a.seed != null ? ` · sample seed ${a.seed}` : ''}
        {items.length > 1 ? ` (${index + 1}/${items.length})` : ''}
      </span>
    </div>
  );
}

/** What an interpolation strip is, by where its two ends come from. */
export function interpolationTitle(a: Artifact | undefined): string {
  return a?.meta.endpoints === 'data' ? 'Latent interpolation · between two validation images' : 'Latent interpolation · between two prior draws';
}

export function interpolationNote(a: Artifact | undefined): string {
  return a?.meta.endpoints === 'data'
    ? 'The codes of the first two validation images (the strip\'s ends), joined by a straight line in latent space and decoded left to right.'
    : 'Two codes drawn from the prior with the sample seed, joined by a great-circle path in latent space and decoded left to right.';
}

export function Gallery({ title, items, testId, note }: { title: string; items: Artifact[]; testId: string; note?: string }) {
  const [index, setIndex] = useFollowLatest(items.length);
  if (items.length === 0) return null;
  const a = items[index];
  return (
    <div className="gallery">
      <div className="section-title" title={note} data-testid={`${testId}-title`}>
        {title}
      </div>
      <div className="gallery-frame">
        <img data-testid={testId} src={getApi().artifactUrl(a.path)} alt={`${title} at step ${a.step}`} data-step={a.step} />
      </div>
      <StepSlider items={items} index={index} onChange={setIndex} />
    </div>
  );
}

type Points = [number, number][];
interface ScatterFile {
  data: Points;
  samples: Points;
}

function parseScatter(v: unknown): ScatterFile {
  const pts = (x: unknown): Points =>
    Array.isArray(x) ? x.filter((p): p is [number, number] => Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number') : [];
  const o = (v ?? {}) as Record<string, unknown>;
  return { data: pts(o.data), samples: pts(o.samples) };
}

export function Scatter2d({ items }: { items: Artifact[] }) {
  const [index, setIndex] = useFollowLatest(items.length);
  const el = useRef<HTMLDivElement>(null);
  const cache = useRef(new Map<string, ScatterFile>());
  const a = items[index] as Artifact | undefined;

  useEffect(() => {
    if (!a || !el.current) return;
    let cancelled = false;
    const div = el.current;
    const draw = (f: ScatterFile) => {
      if (cancelled) return;
      const xs = (p: Points, i: number) => p.map((q) => q[i]);
      void Plotly.react(
        div,
        [
          { x: xs(f.data, 0), y: xs(f.data, 1), type: 'scatter', mode: 'markers', name: 'data', marker: { color: '#9aa0a6', size: 3, opacity: 0.5 } },
          { x: xs(f.samples, 0), y: xs(f.samples, 1), type: 'scatter', mode: 'markers', name: 'samples', marker: { color: '#1f6feb', size: 3.5, opacity: 0.75 } },
        ],
        {
          height: 320,
          margin: { l: 40, r: 12, t: 10, b: 30 },
          paper_bgcolor: '#fff',
          plot_bgcolor: '#fff',
          font: { size: 11 },
          xaxis: { gridcolor: '#eceef1', zeroline: false },
          yaxis: { gridcolor: '#eceef1', zeroline: false, scaleanchor: 'x' },
          legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1, yanchor: 'bottom' },
          uirevision: 'keep',
        },
        { responsive: true, displaylogo: false },
      ).then(() => {
        div.dataset.points = String(f.data.length + f.samples.length);
      });
    };
    const hit = cache.current.get(a.path);
    if (hit) draw(hit);
    else
      fetch(getApi().artifactUrl(a.path))
        .then((r) => {
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          return r.json() as Promise<unknown>;
        })
        .then((json) => {
          const f = parseScatter(json);
          cache.current.set(a.path, f);
          draw(f);
        })
        .catch((e) => reportError(`Loading scatter ${a.path}`, e));
    return () => {
      cancelled = true;
    };
  }, [a?.path]);

  useEffect(() => {
    const div = el.current;
    return () => {
      if (div) Plotly.purge(div);
    };
  }, []);

  if (!a) return null;
  return (
    <div className="gallery">
      <div className="section-title">Samples vs data</div>
      <div className="scatter-plot" data-testid="scatter-plot" ref={el} />
      <StepSlider items={items} index={index} onChange={setIndex} />
    </div>
  );
}
