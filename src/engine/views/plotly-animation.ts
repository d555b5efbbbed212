// The slider and play/pause buttons under a Plotly figure that carries animation
// frames (the GAN Lab's single updates, DDPM's chains): one slider step per frame.

export interface AnimationControlOptions {
  /** one slider step per frame: the label shown and the frame's name */
  steps: { label: string; frame: string }[];
  /** text before the current step's label */
  prefix?: string;
  /** ms per frame while playing */
  playMs: number;
  /** whether a frame redraws the whole figure (heatmaps) or only moves traces */
  redraw: boolean;
}

/** `sliders` and `updatemenus` of a figure's layout. */
export function animationControls(o: AnimationControlOptions): { sliders: unknown[]; updatemenus: unknown[] } {
  const still = { mode: 'immediate', frame: { duration: 0, redraw: o.redraw }, transition: { duration: 0 } };
  return {
    sliders: [{
      active: 0,
      x: 0.16,
      len: 0.84,
      y: 0,
      yanchor: 'top',
      pad: { t: 36, b: 8 },
      currentvalue: o.prefix ? { prefix: o.prefix, xanchor: 'right' } : { prefix: '' },
      steps: o.steps.map((s) => ({ label: s.label, method: 'animate', args: [[s.frame], still] })),
    }],
    updatemenus: [{
      type: 'buttons',
      direction: 'left',
      showactive: false,
      x: 0.15,
      y: 0,
      xanchor: 'right',
      yanchor: 'top',
      pad: { t: 56, r: 8 },
      buttons: [
        { label: '▶ play', method: 'animate', args: [null, { fromcurrent: true, frame: { duration: o.playMs, redraw: o.redraw }, transition: { duration: 0 } }] },
        { label: '❚❚ pause', method: 'animate', args: [[null], still] },
      ],
    }],
  };
}
