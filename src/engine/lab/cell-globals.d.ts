// The globals a notebook cell sees, for the editor only (the engine's own code has no
// such globals: tsconfig.json leaves this file out). Declared in api.d.ts; the rest are
// what the kernel puts in a cell's context (src/engine/cells/runner.ts) beside the
// ES2023 library: no DOM, no Node module system.

/** The Latent Lab API. */
declare const lab: LatentLab.Lab;
/**
 * TensorFlow.js (`@tensorflow/tfjs`), on the engine's selected backend. Its values are not
 * typed here (the editor does not load TensorFlow.js's declarations); the types below name
 * them in annotations, e.g. `(t: tf.Tensor) => t.data()`.
 */
declare const tf: any;
declare namespace tf {
  /** A tensor: its shape and type, reading its values back, and freeing it. */
  interface Tensor {
    readonly shape: number[];
    readonly dtype: 'float32' | 'int32' | 'bool' | 'complex64' | 'string';
    readonly size: number;
    readonly rank: number;
    /** its values, read back (await it: a GPU backend has no synchronous read) */
    data(): Promise<Float32Array | Int32Array | Uint8Array>;
    /** its values as nested arrays (await it) */
    array(): Promise<any>;
    dataSync(): Float32Array | Int32Array | Uint8Array;
    arraySync(): any;
    dispose(): void;
    /** the chained operations (t.add(u), t.mean(), t.reshape(shape), ...) are not declared one by one */
    [operation: string]: any;
  }
  type Scalar = Tensor;
  type Tensor1D = Tensor;
  type Tensor2D = Tensor;
  type Tensor3D = Tensor;
  type Tensor4D = Tensor;
  type Variable = Tensor;
}

/** What a cell prints (log, info, debug, table, dir: text under the cell; warn, error: its error stream). */
declare const console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  table(data: unknown): void;
  dir(item: unknown): void;
};
/** Node's timers (the handle is an object, not a number). */
interface TimerHandle {
  ref(): TimerHandle;
  unref(): TimerHandle;
}
declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined | null): void;
declare function setInterval<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): TimerHandle;
declare function clearInterval(handle: TimerHandle | undefined | null): void;
declare function setImmediate<A extends unknown[]>(callback: (...args: A) => void, ...args: A): TimerHandle;
declare function clearImmediate(handle: TimerHandle | undefined | null): void;
declare function queueMicrotask(callback: () => void): void;
declare function structuredClone<T>(value: T): T;
declare const performance: {
  /** milliseconds since the engine started, sub-millisecond precision */
  now(): number;
};
declare class TextEncoder {
  readonly encoding: 'utf-8';
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
