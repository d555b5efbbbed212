// Choose the tfjs backend, best first: a hardware GPU through WebGPU (Dawn), CUDA
// (tfjs-node-gpu), native CPU (tfjs-node), WebAssembly, plain JS. A software WebGPU
// adapter (SwiftShader, lavapipe) is used only when asked for by name. The native packages are optional and not bundled: they are
// looked up at runtime through a require the bundler does not see.
import * as tf from '@tensorflow/tfjs';
import { nodeRequire } from '../util/node-require';
import { guardWasmHeap } from './wasm-heap';
import { installWasmKernels, wasmKernelsDetail } from './wasm-kernels';
import { probeWebgpu, registerWebgpu, webgpuAdapter } from './webgpu';

export interface BackendSelection {
  backend: string;
  /** backends that loaded, best first */
  available: string[];
  detail: string;
  /** what the badge and the run record show: the name, and for webgpu the adapter ('webgpu · NVIDIA H100 80GB HBM3') */
  label: string;
}

interface Candidate {
  name: 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  /** tf backend name it registers */
  tfName: string;
  pkg: string | null;
}

const CANDIDATES: Candidate[] = [
  { name: 'webgpu', tfName: 'webgpu', pkg: null },
  { name: 'tensorflow-gpu', tfName: 'tensorflow', pkg: '@tensorflow/tfjs-node-gpu' },
  { name: 'tensorflow', tfName: 'tensorflow', pkg: '@tensorflow/tfjs-node' },
  { name: 'wasm', tfName: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm' },
  { name: 'cpu', tfName: 'cpu', pkg: null },
];

function shortReason(e: unknown, pkg: string): string {
  const err = e as { code?: string; message?: string };
  const short = pkg.replace('@tensorflow/', '');
  if (err?.code === 'MODULE_NOT_FOUND' && String(err.message ?? '').includes(pkg)) return `${short} not installed`;
  return `${short} failed to load: ${String(err?.message ?? e).split('\n')[0]}`;
}

/** Load what can be loaded (once per process). */
const loaded = new Map<string, string | null>(); // name → failure reason, null = ok
function probe(c: Candidate): string | null {
  if (loaded.has(c.name)) return loaded.get(c.name)!;
  let reason: string | null = null;
  if (c.pkg) {
    try {
      const mod = nodeRequire()(c.pkg) as { BackendWasm?: { prototype: object } };
      if (c.name === 'wasm') {
        installWasmKernels();
        // a tensor that does not fit in the wasm heap: an error that says so, not a memory fault
        guardWasmHeap(mod.BackendWasm);
      }
      if (!tf.findBackendFactory(c.tfName)) reason = `${c.pkg} loaded but registered no '${c.tfName}' backend (version mismatch with @tensorflow/tfjs?)`;
    } catch (e) {
      reason = shortReason(e, c.pkg);
    }
  }
  loaded.set(c.name, reason);
  return reason;
}

async function describe(name: string): Promise<string> {
  if (name === 'webgpu') {
    const a = webgpuAdapter();
    return a ? `webgpu on ${a.label} (${[a.vendor, a.architecture, a.description].filter(Boolean).join(', ')})` : 'webgpu';
  }
  if (name !== 'wasm') return name;
  try {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : '1 thread'}) + ${wasmKernelsDetail()}`;
  } catch {
    return 'wasm';
  }
}

let selected: string | null = null;

/** Name of the selected backend ('webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'), or tf.getBackend() before selection. */
export function backendName(): string {
  return selected ?? tf.getBackend() ?? 'unknown';
}

/** The backend with its device where it has one: 'webgpu · SwiftShader', else the name. */
export function backendLabel(): string {
  const name = backendName();
  const a = name === 'webgpu' && tf.getBackend() === 'webgpu' ? webgpuAdapter() : null;
  return a ? `webgpu · ${a.label}` : name;
}

/**
 * Select a backend: `preferred` (a name from the list, or from env LATENTLAB_BACKEND)
 * first, then the best that works.
 */
export async function selectBackend(preferred: string | null = process.env.LATENTLAB_BACKEND ?? null): Promise<BackendSelection> {
  const notes: string[] = [];
  const available: string[] = [];
  // the GPU and the CPU builds of tfjs-node both register 'tensorflow': only the
  // first that loads counts
  let nativeLoaded = false;
  // webgpu: where Dawn finds an adapter; a software one only when asked for
  let softwareGpu = false;
  {
    const { adapter, reason } = await probeWebgpu();
    if (reason) notes.push(reason);
    else {
      available.push('webgpu');
      softwareGpu = adapter!.software;
    }
  }
  for (const c of CANDIDATES) {
    if (c.name === 'webgpu') continue;
    if (c.tfName === 'tensorflow' && nativeLoaded) continue;
    const reason = probe(c);
    if (reason) notes.push(reason);
    else {
      available.push(c.name);
      if (c.tfName === 'tensorflow') nativeLoaded = true;
    }
  }
  const order = available.filter((b) => !(b === 'webgpu' && softwareGpu));
  if (softwareGpu && preferred !== 'webgpu') notes.push(`webgpu: only a software adapter (${(await probeWebgpu()).adapter!.label}), slower than the CPU path; LATENTLAB_BACKEND=webgpu or --backend webgpu uses it`);
  if (preferred) {
    if (available.includes(preferred)) {
      const i = order.indexOf(preferred);
      if (i >= 0) order.splice(i, 1);
      order.unshift(preferred);
    } else {
      notes.unshift(`preferred backend '${preferred}' is not available`);
    }
  }
  for (const name of order) {
    const c = CANDIDATES.find((x) => x.name === name)!;
    try {
      if (name === 'webgpu') await registerWebgpu();
      const ok = await tf.setBackend(c.tfName);
      if (!ok) throw new Error('setBackend returned false');
      await tf.ready();
      selected = name;
      const detail = [await describe(name), ...notes].join('; ');
      return { backend: name, available, detail, label: backendLabel() };
    } catch (e) {
      notes.push(`${name} failed to initialize: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
    }
  }
  throw new Error(`no tfjs backend could be initialized: ${notes.join('; ')}`);
}
