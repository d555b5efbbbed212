// A Plotly figure a cell showed (lab.plot and the lab.views.*): drawn once per
// change with Plotly.react, so a live view that replaces its figure redraws in place.
import Plotly, { type PlotData } from 'plotly.js-cartesian-dist-min';
import { useEffect, useRef } from 'react';
import { withPointMarkers } from '../plots/trace';

export function PlotOutput({ data, layout, frames, caption }: { data: Record<string, unknown>[]; layout: Record<string, unknown>; frames?: Record<string, unknown>[]; caption?: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const div = el.current;
    if (!div) return;
    let alive = true;
    // one figure object, so animation frames (slider / play buttons) come along
    void Plotly.react(div, {
      // a series of one point draws a marker, not empty axes
      data: withPointMarkers(data) as unknown as PlotData[],
      layout: { paper_bgcolor: '#fff', plot_bgcolor: '#fff', font: { size: 11 }, margin: { l: 48, r: 16, t: 36, b: 40 }, height: 340, ...layout },
      ...(frames ? { frames } : {}),
      config: { responsive: true, displaylogo: false },
    } as unknown as Parameters<typeof Plotly.react>[1] as never).then(() => {
      if (alive) div.dataset.traces = String(data.length);
    });
    return () => {
      alive = false;
    };
  }, [data, layout, frames]);
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
