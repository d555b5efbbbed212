// A Plotly figure a cell showed (lab.plot and the lab.views.*): drawn once per
// change with Plotly.react, so a live view that replaces its figure redraws in place.
import Plotly, { type PlotData } from 'plotly.js-cartesian-dist-min';
import { useEffect, useRef } from 'react';

export function PlotOutput({ data, layout, caption }: { data: Record<string, unknown>[]; layout: Record<string, unknown>; caption?: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const div = el.current;
    if (!div) return;
    let alive = true;
    void Plotly.react(
      div,
      data as unknown as PlotData[],
      { paper_bgcolor: '#fff', plot_bgcolor: '#fff', font: { size: 11 }, margin: { l: 48, r: 16, t: 36, b: 40 }, height: 340, ...layout },
      { responsive: true, displaylogo: false },
    ).then(() => {
      if (alive) div.dataset.traces = String(data.length);
    });
    return () => {
      alive = false;
    };
  }, [data, layout]);
  useEffect(() => {
    const div = el.current;
    return () => {
      if (div) Plotly.purge(div);
    };
  }, []);
  return (
    <figure className="out-plot">
      <div ref={el} data-testid="output-plot" />
      {caption && <figcaption>{caption}</figcaption>}
    </figure>
  );
}
