// Shared by our wasm kernels: the parts of tfjs-backend-wasm's backend they use
// (its heap views and buffers), and calling another wasm kernel from inside one;
// and the guard that makes a full heap an error that says so.
import * as tf from '@tensorflow/tfjs';
import { getKernel, util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

export interface Backend {
  disposeData(dataId: object): void;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: 'float32' | 'bool'): TensorInfo;
  /** a view of the tensor's heap bytes: Float32Array for float32, Uint8Array for bool */
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

export type Call = Parameters<KernelFunc>[0];

/** Runs another wasm kernel from inside one (no tensors, no engine bookkeeping). */
export const wasmKernel = (backend: Call['backend']) => (name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) =>
  getKernel(name, 'wasm')!.kernelFunc({ inputs, attrs: attrs as never, backend }) as TensorInfo;

/** BatchMatMul through whatever kernel is registered for it now (ours, when installed). */
export const batchMatMul = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, backend: Call['backend']) =>
  getKernel('BatchMatMul', 'wasm')!.kernelFunc({ inputs: { a, b }, attrs: { transposeA, transposeB }, backend }) as TensorInfo;

// --- exhaustion of the wasm heap ---
//
// tfjs-backend-wasm allocates every tensor with the module's malloc and trusts the
// result. Near the heap's 4 GB limit that result can be wrong, not just 0: when the
// heap has free space at its top and a request needs it to grow past 4 GB, the
// allocator's sbrk wraps around 32 bits and "succeeds", and malloc returns a block
// that runs past the end of the heap (measured: 1.6 GB held in a 2.2 GB heap, then
// 2.8 GB asked for: a block from 1526 MB to 4196 MB). The first write into it is
// "RuntimeError: memory access out of bounds", often in tfjs's own bookkeeping right
// after (registerTensor). A request of 4 GB or more is not even seen whole: malloc
// takes a 32-bit size. The guard below checks every tensor's block and turns all of
// these into a WasmHeapError before anything is registered or written. Freeing such
// a block puts the allocator right again (its top is trimmed back; checked with
// thousands of random allocations around the limit: no overlap, no corruption).

/** the largest heap tfjs-backend-wasm 4.x can grow to (65535 wasm pages: its emscripten getHeapMax) */
export const WASM_HEAP_MAX = 65535 * 65536;

/** A tensor did not fit in the wasm heap. */
export class WasmHeapError extends Error {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: string,
    readonly bytes: number,
    readonly heapBytes: number,
    readonly tensorBytes: number,
  ) {
    super(
      `out of memory in the WebAssembly heap: a ${dtype} tensor of shape [${shape.join(', ')}] (${mb(bytes)}) did not fit ` +
        `(heap ${mb(heapBytes)} of at most ${mb(WASM_HEAP_MAX)}, ${mb(tensorBytes)} of it held by tensors). ` +
        'A smaller batchSize or a smaller model needs less.',
    );
    this.name = 'WasmHeapError';
  }
}

const mb = (bytes: number) => `${bytes >= 100 * 2 ** 20 ? Math.round(bytes / 2 ** 20) : Number((bytes / 2 ** 20).toPrecision(2))} MB`;

/** the parts of tfjs-backend-wasm's emscripten module the guard uses */
interface WasmModule {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}

interface WasmBackendInstance {
  wasm: WasmModule;
}

type Move = (this: WasmBackendInstance, dataId: object, values: unknown, shape: number[], dtype: string, refCount: number) => void;

/** thrown by a guarded malloc that got no memory; move turns it into a WasmHeapError with the tensor's shape */
const NO_MEMORY = Symbol('no room in the wasm heap');
const guardedModules = new WeakSet<object>();
const GUARDED = Symbol.for('latentlab.wasmHeapGuard');

/**
 * Makes the module's malloc throw NO_MEMORY instead of returning 0 or a block that
 * does not lie inside the heap (once per module).
 */
function guardMalloc(m: WasmModule): void {
  if (guardedModules.has(m)) return;
  guardedModules.add(m);
  // emscripten binds _malloc lazily (its first call replaces the property with the
  // raw export): one call first, so the wrapper is never replaced
  m._free(m._malloc(8));
  const raw = m._malloc;
  m._malloc = (bytes: number) => {
    const ptr = raw(bytes) >>> 0; // a block above 2 GB comes back as a negative int32
    if (bytes > 0 && (ptr === 0 || ptr + bytes > m.HEAPU8.length)) {
      if (ptr !== 0) m._free(ptr);
      throw NO_MEMORY;
    }
    return ptr;
  };
}

/** the heap's size now (bytes), where the wasm backend is the one running */
export function wasmHeapBytes(): number {
  const b = tf.backend() as unknown as Partial<WasmBackendInstance>;
  return b?.wasm?.HEAPU8 ? b.wasm.HEAPU8.length : 0;
}

/**
 * Guards every tensor allocation of tfjs-backend-wasm's backend (its `move`: every
 * write and makeOutput goes through it): a tensor that cannot fit throws a
 * WasmHeapError naming its shape and size, never a fault inside the wasm code.
 * `BackendWasm` is the package's exported class; idempotent.
 */
export function guardWasmHeap(BackendWasm: { prototype: object } | undefined): void {
  const proto = BackendWasm?.prototype as (Record<symbol, unknown> & { move?: Move }) | undefined;
  if (!proto || typeof proto.move !== 'function' || proto[GUARDED]) return;
  const move = proto.move;
  proto[GUARDED] = true;
  proto.move = function (this: WasmBackendInstance, dataId, values, shape, dtype, refCount) {
    if (dtype === 'string') return move.call(this, dataId, values, shape, dtype, refCount);
    const bytes = util.sizeFromShape(shape) * util.bytesPerElement(dtype as 'float32');
    const fail = () => new WasmHeapError(shape, dtype, bytes, this.wasm.HEAPU8.length, tf.memory().numBytes);
    guardMalloc(this.wasm);
    if (bytes > WASM_HEAP_MAX) throw fail();
    try {
      return move.call(this, dataId, values, shape, dtype, refCount);
    } catch (e) {
      if (e === NO_MEMORY) throw fail();
      throw e;
    }
  };
}
