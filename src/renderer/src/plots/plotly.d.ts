// The small part of the Plotly API the renderer uses (the dist bundle ships no types).
declare module 'plotly.js-cartesian-dist-min' {
  export interface PlotData {
    x?: number[];
    y?: number[];
    type?: string;
    mode?: string;
    name?: string;
    line?: Record<string, unknown>;
    marker?: Record<string, unknown>;
    hovertemplate?: string;
    showlegend?: boolean;
    legendgroup?: string;
    opacity?: number;
    visible?: boolean | 'legendonly';
  }
  export type Layout = Record<string, unknown>;
  export type Config = Record<string, unknown>;
  export interface PlotlyStatic {
    newPlot(el: HTMLElement, data: PlotData[], layout?: Layout, config?: Config): Promise<HTMLElement>;
    react(el: HTMLElement, data: PlotData[], layout?: Layout, config?: Config): Promise<HTMLElement>;
    extendTraces(el: HTMLElement, update: { x: number[][]; y: number[][] }, indices: number[], maxPoints?: number): Promise<HTMLElement>;
    addTraces(el: HTMLElement, traces: PlotData | PlotData[], newIndices?: number[]): Promise<HTMLElement>;
    restyle(el: HTMLElement, update: Record<string, unknown>, indices?: number[]): Promise<HTMLElement>;
    relayout(el: HTMLElement, update: Layout): Promise<HTMLElement>;
    purge(el: HTMLElement): void;
    Plots: { resize(el: HTMLElement): void };
  }
  const Plotly: PlotlyStatic;
  export default Plotly;
}
