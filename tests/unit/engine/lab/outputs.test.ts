// What a cell shows: a keyed output replaces the earlier one with its key, plots and
// audio round-trip through nbformat, lab.plot passes a Plotly figure through as JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { CellOutput, mergeOutput } from '../../../../src/shared/domain';
import { outputFromNb, outputToNb } from '../../../../src/renderer/src/notebook/nbformat';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

const plots = (outputs: CellOutput[]) => outputs.filter((o): o is Extract<CellOutput, { type: 'plot' }> => o.type === 'plot');

describe('outputs', () => {
  it('a keyed output replaces the earlier one with its key; plots round-trip through nbformat as plotly json', () => {
    let outs: CellOutput[] = [{ type: 'text', text: 'a' }];
    outs = mergeOutput(outs, { type: 'image', path: 'v/1.png', key: 'live' });
    outs = mergeOutput(outs, { type: 'text', text: 'b' });
    outs = mergeOutput(outs, { type: 'image', path: 'v/2.png', key: 'live' });
    expect(outs.map((o) => (o.type === 'image' ? o.path : o.type))).toEqual(['text', 'v/2.png', 'text']);
    const plot: CellOutput = { type: 'plot', data: [{ type: 'heatmap', z: [[1, 2]] }], layout: { title: { text: 't' } }, caption: 'c' };
    const nb = outputToNb(plot);
    expect((nb as unknown as { data: Record<string, unknown> }).data['application/vnd.plotly.v1+json']).toEqual({ data: plot.data, layout: plot.layout });
    expect(outputFromNb(nb)).toEqual(plot);
    const audio: CellOutput = { type: 'audio', path: 'views/a.wav', caption: 'hear' };
    expect(outputFromNb(outputToNb(audio))).toEqual(audio);
  });

  it('lab.plot passes a figure through as JSON and refuses what is not one', () => {
    const { lab, outputs } = recordingLab();
    lab.plot([{ x: new Float32Array([1, 2]), y: [3, 4], type: 'scatter' }], { title: { text: 'hi' } }, 'a line');
    expect(plots(outputs)[0]).toEqual({ type: 'plot', data: [{ x: [1, 2], y: [3, 4], type: 'scatter' }], layout: { title: { text: 'hi' } }, caption: 'a line' });
    expect(() => lab.plot({} as never)).toThrow('list of Plotly traces');
  });
});
