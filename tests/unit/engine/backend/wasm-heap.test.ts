// The published NADE (500 hidden units) on the wasm backend, and what a full wasm
// heap does. NADE's activations are [D, rows, H]: at H = 500 an evaluation chunk of
// 500 rows was 784 MB per activation, about 3 GB at its peak; after the first
// training steps had cut the (at most 4 GB) heap into pieces it no longer fitted,
// tfjs-wasm's malloc returned 0, and the run died inside the wasm code with
// "RuntimeError: memory access out of bounds". Now the evaluation chunk is sized by
// memory, and a tensor that cannot fit is an error that says so.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { WASM_HEAP_MAX, WasmHeapError, wasmHeapBytes } from '../../../../src/engine/backend/wasm-heap';
import { createLab } from '../../../../src/engine/lab/lab';
import { chunkedNll } from '../../../../src/engine/nn/batched';
import { Nade } from '../../../../src/engine/models/autoregressive/nade';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

const OOM = /^out of memory in the WebAssembly heap: a float32 tensor of shape \[/;

describe('NADE at the published width on wasm', () => {
  it('trains past several evaluations on thresholded MNIST without growing', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const { ctx } = collectingContext();
    const lab = createLab(ctx);
    const data = lab.data.mnist({ binarize: 'threshold' });
    expect(data.val.n).toBeGreaterThanOrEqual(500); // evaluations see at least the old 500-row chunk
    const model = new Nade({ hidden: 500 });
    const tensors: number[] = [];
    const heap: number[] = [];
    // the notebook's settings, with an evaluation every 10 steps (the run died at its first one after step 0)
    const run = await lab.train(model, data, {
      steps: 30, batchSize: 128, optimizer: 'adam', lr: 5e-3, seed: 1, evalEvery: 10, sampleEvery: 1000, checkpointEvery: 1000,
      onStep: () => {
        tensors.push(tf.memory().numTensors);
        heap.push(wasmHeapBytes());
      },
    });
    expect(run.status).toBe('finished');
    const val = run.history('val/nll');
    expect(val.steps).toEqual([0, 10, 20, 30]);
    for (const v of val.values) expect(Number.isFinite(v)).toBe(true);
    expect(val.values[3]).toBeLessThan(val.values[0] - 100);
    // nothing accumulates between steps, and the heap stops growing after the first step
    expect(new Set(tensors).size).toBe(1);
    expect(heap[heap.length - 1]).toBe(heap[0]);
    expect(heap[0]).toBeLessThan(0.75 * WASM_HEAP_MAX);
    model.dispose();
  }, 300_000);
});

describe('a full wasm heap', () => {
  it('a tensor larger than the heap can ever be is an out-of-memory error, and the backend goes on', () => {
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      tf.zeros([1100, 1000, 1000]); // 4.4 GB: more than malloc's 32-bit size can even ask for
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmHeapError);
    expect(err).not.toBeInstanceOf(WebAssembly.RuntimeError);
    expect((err as Error).message).toMatch(OOM);
    expect((err as Error).message).toContain('[1100, 1000, 1000] (4196 MB) did not fit');
    expect((err as Error).message).toMatch(/heap \d+ MB of at most 4096 MB/);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.sum(tf.ones([1000])).dataSync()[0]).toBe(1000);
  });

  it('a tensor that fits the limit but not the heap that is left is the same error (malloc returned 0)', () => {
    const backend = tf.backend() as unknown as { makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo };
    // 1.6 GB held (never written: no memory is touched), then 2.8 GB more: 4.4 GB in all
    const held = tf.engine().makeTensorFromTensorInfo(backend.makeOutput([400, 1000, 1000], 'float32'));
    try {
      // (tf.fill: a kernel's output; tf.ones would first fill 2.8 GB of JS memory)
      expect(() => tf.fill([700, 1000, 1000], 1)).toThrow(WasmHeapError);
      expect(() => tf.fill([700, 1000, 1000], 1)).toThrow(/^out of memory in the WebAssembly heap: a float32 tensor of shape \[700, 1000, 1000\] \(2670 MB\) did not fit \(heap \d+ MB of at most 4096 MB, \d+ MB of it held by tensors\)/);
    } finally {
      held.dispose();
    }
    expect(tf.sum(tf.ones([600, 1000])).dataSync()[0]).toBe(600000);
  });

  it('a run whose step cannot fit fails with the message, not a memory fault', async () => {
    const { ctx, messages } = collectingContext();
    const lab = createLab(ctx);
    const data = lab.data.mnist({ binarize: 'threshold', limit: 1000 });
    // [784, 256, 6000] floats: 4.8 GB per activation of a training step
    const model = new Nade({ hidden: 6000 });
    const before = tf.memory().numTensors;
    const err = await lab.train(model, data, { steps: 2, batchSize: 256, evalSize: 4, sampleEvery: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasmHeapError);
    expect((err as Error).message).toMatch(/^out of memory in the WebAssembly heap: a float32 tensor of shape \[784, 256, 6000\] \(4594 MB\) did not fit/);
    const end = messages.find((m) => m.type === 'run.end');
    expect(end && end.type === 'run.end' && end.status).toBe('failed');
    expect(end && end.type === 'run.end' && end.error).toMatch(OOM);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before); // the failed step left nothing behind
  }, 120_000);

  it('an evaluation chunk that does not fit is retried in halves', async () => {
    const x = tf.tensor2d(Float32Array.from({ length: 8 * 3 }, (_, i) => i), [8, 3]);
    const seen: number[] = [];
    const nll = await chunkedNll(x, 8, (rows) => {
      seen.push(rows.shape[0]);
      // more than 2 rows at once: 4.8 GB or more of scratch
      if (rows.shape[0] > 2) tf.zeros([rows.shape[0] * 300, 1000, 1000]);
      return tf.sum(rows, 1) as tf.Tensor1D;
    });
    expect(seen).toEqual([8, 4, 2, 2, 2, 2]);
    expect(Array.from(nll)).toEqual([3, 12, 21, 30, 39, 48, 57, 66]);
    await expect(chunkedNll(x, 4, () => tf.zeros([2000, 1000, 1000]) as unknown as tf.Tensor1D)).rejects.toThrow(WasmHeapError);
    x.dispose();
  });
});
