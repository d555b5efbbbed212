// The webgpu backend: tfjs-backend-webgpu on Dawn (the `webgpu` npm package's
// dawn.node), in plain Node, the CLI and Electron's utility process alike.
//
// Dawn reaches the GPU through Vulkan (Linux, Windows), Metal (macOS) or D3D12
// (Windows). We pick the adapter ourselves rather than through tfjs's factory, so
// that a software adapter (SwiftShader, lavapipe: a CPU pretending to be a GPU,
// slower than our native CPU kernels) is used only when asked for, and so that the
// badge and the run record can say which adapter ran.
//
// Failures a GPU brings, each as one line instead of a crash or a hang:
// - no adapter: why (no Vulkan loader, no driver, Dawn refused the one it found);
// - a buffer over the device's limits: "out of GPU memory: …", thrown where the
//   tensor is made; an allocation the driver itself refuses is reported by Dawn as an
//   out-of-memory error scope and fails the next step (see gpuFault());
// - a lost device (driver reset, unplugged eGPU): the next step throws with Dawn's reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nodeRequire } from '../util/node-require';
import { installWebgpuKernels } from './webgpu-kernels';

export interface WebgpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
  /** what the badge shows after "webgpu · " */
  label: string;
}

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}
type GPU = { requestAdapter(o?: Record<string, unknown>): Promise<GPUAdapterLike | null> };
interface GPUAdapterLike {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(d?: Record<string, unknown>): Promise<GPUDeviceLike>;
}
interface GPUDeviceLike {
  limits: Record<string, number>;
  lost: Promise<{ reason: string; message: string }>;
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): unknown;
  addEventListener(type: 'uncapturederror', fn: (e: { error: { message: string; constructor: { name: string } } }) => void): void;
  pushErrorScope(filter: 'out-of-memory' | 'validation' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  destroy(): void;
}

const MiB = 1024 * 1024;
const size = (bytes: number) => (bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(2)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`);

/** The dawn.node inside the `webgpu` package, for this platform. */
export function dawnPath(): string {
  const pkg = path.dirname(nodeRequire().resolve('webgpu/package.json'));
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  return path.join(pkg, 'dist', `${process.platform}-${arch}`, 'dawn.node');
}

/** Software adapters: usable, correct, and slower than our own CPU kernels. */
export function isSoftware(info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`;
  return /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i.test(text);
}

function labelOf(info: GPUAdapterLike['info'], software: boolean): string {
  if (/swiftshader/i.test(`${info.architecture} ${info.description} ${info.device}`)) return 'SwiftShader';
  if (/llvmpipe|lavapipe/i.test(`${info.device} ${info.description}`)) return 'lavapipe';
  const words = (s: string) => s.trim().replace(/\s+/g, ' ');
  // Dawn's description is the driver's device name on Vulkan ("NVIDIA H100 80GB HBM3"); device is often empty
  const name = words(info.description || info.device || '');
  const vendor = words(info.vendor || '');
  const text = name && vendor && !name.toLowerCase().includes(vendor.toLowerCase()) ? `${vendor} ${name}` : name || vendor || 'unknown adapter';
  return software ? `${text} (software)` : text;
}

/** Why no Vulkan adapter came back, where it can be told (Linux). */
function vulkanReason(): string {
  if (process.platform !== 'linux') return 'no WebGPU adapter (no Metal / D3D12 / Vulkan driver Dawn accepts)';
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '/usr/lib64',
    '/usr/lib',
    '/lib64',
    '/usr/local/lib',
  ];
  if (!dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')))) return 'no Vulkan loader (libvulkan.so.1; Debian/Ubuntu: libvulkan1)';
  const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const named = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES;
  const icds = named ? named.split(':').filter((f) => fs.existsSync(f)) : icdDirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : []));
  if (icds.length === 0) return named ? `no Vulkan driver found (${named} does not exist)` : 'no Vulkan driver found (no ICD in /usr/share/vulkan/icd.d)';
  return 'no Vulkan device Dawn accepts (the drivers present lack a feature it requires)';
}

let dawn: Dawn | null = null;
let gpu: GPU | null = null;
let chosen: WebgpuAdapter | null = null;
let fault: string | null = null;
let loadFailure: string | null | undefined;

/** Load dawn.node and tfjs-backend-webgpu once; null when they load, else why not. */
function load(): string | null {
  if (loadFailure !== undefined) return loadFailure;
  try {
    dawn = nodeRequire()(dawnPath()) as Dawn;
    // tfjs-backend-webgpu looks for navigator.gpu when it is imported, and uses the
    // WebGPU globals (GPUBufferUsage, ...) when it runs
    Object.assign(globalThis, dawn.globals);
    gpu = dawn.create((process.env.LATENTLAB_DAWN_FLAGS ?? '').split(',').filter(Boolean));
    const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    nodeRequire()('@tensorflow/tfjs-backend-webgpu');
    installWebgpuKernels();
    loadFailure = null;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    loadFailure = err?.code === 'MODULE_NOT_FOUND' ? `webgpu: ${String(err.message).split('\n')[0]}` : `webgpu: dawn.node failed to load: ${String(err?.message ?? e).split('\n')[0]}`;
  }
  return loadFailure;
}

let probed: Promise<{ adapter: GPUAdapterLike | null; reason: string | null }> | null = null;

/** The adapter Dawn offers (high performance first), or why there is none. */
export function probeWebgpu(): Promise<{ adapter: WebgpuAdapter | null; reason: string | null }> {
  probed ??= (async () => {
    const failed = load();
    if (failed) return { adapter: null, reason: failed };
    try {
      const adapter = await gpu!.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) return { adapter: null, reason: `webgpu: ${vulkanReason()}` };
      return { adapter, reason: null };
    } catch (e) {
      return { adapter: null, reason: `webgpu: requestAdapter failed: ${String((e as Error)?.message ?? e).split('\n')[0]}` };
    }
  })();
  return probed.then(({ adapter, reason }) => {
    if (!adapter) return { adapter: null, reason };
    const software = isSoftware(adapter.info);
    return {
      adapter: { ...pick(adapter.info), software, label: labelOf(adapter.info, software) },
      reason: null,
    };
  });
}

const pick = (i: GPUAdapterLike['info']) => ({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description });

/** Register the 'webgpu' backend with our own adapter and device handling (once). */
export async function registerWebgpu(): Promise<void> {
  const { reason } = await probeWebgpu();
  if (reason) throw new Error(reason);
  const { adapter } = await probed!;
  if (registeredOurs) return;
  registeredOurs = true;
  tf.removeBackend('webgpu');
  const { WebGPUBackend } = nodeRequire()('@tensorflow/tfjs-backend-webgpu') as { WebGPUBackend: new (d: unknown, info: unknown) => tf.KernelBackend };
  tf.registerBackend(
    'webgpu',
    async () => {
      const a = adapter!;
      const limits = a.limits;
      const device = await a.requestDevice({
        requiredFeatures: a.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      guardDevice(device);
      const software = isSoftware(a.info);
      chosen = { ...pick(a.info), software, label: labelOf(a.info, software) };
      return new WebGPUBackend(device, a.info);
    },
    // tfjs's own priority for webgpu; selection order is ours (select.ts)
    3,
  );
}
let registeredOurs = false;

/** Buffers over the device's limits fail where they are made, with their size; faults Dawn reports later fail the next step. */
function guardDevice(device: GPUDeviceLike): void {
  const maxBuffer = Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
  const create = device.createBuffer.bind(device);
  device.createBuffer = (d) => {
    if (d.size > maxBuffer) throw new Error(`out of GPU memory: a ${size(d.size)} buffer is over this device's ${size(maxBuffer)} limit per buffer`);
    device.pushErrorScope('out-of-memory');
    const buffer = create(d);
    void device.popErrorScope().then((err) => {
      if (err) fault ??= `out of GPU memory: allocating a ${size(d.size)} buffer failed (${err.message.split('\n')[0]})`;
    });
    return buffer;
  };
  device.addEventListener('uncapturederror', (e) => {
    const message = String(e.error?.message ?? e.error).split('\n')[0];
    fault ??= /memory/i.test(e.error?.constructor?.name ?? '') || /out of memory/i.test(message) ? `out of GPU memory: ${message}` : `GPU error: ${message}`;
  });
  void device.lost.then((info) => {
    // the engine never destroys its device while it runs: any loss is a fault
    lost = true;
    fault = `GPU device lost: ${info.message || info.reason}`;
  });
}

let lost = false;

/** The GPU went away under a run (driver reset, device removed): the run is crashed, not failed. */
export class GpuLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuLostError';
  }
}

/** The adapter the webgpu backend runs on (null before it initialized). */
export function webgpuAdapter(): WebgpuAdapter | null {
  return chosen;
}

/** A GPU fault since the last check (out of memory, device lost, a kernel Dawn rejected), or null. */
export function gpuFault(): string | null {
  return fault;
}

/** Throws the pending GPU fault, if any (the trainer calls this once a step). */
export function throwGpuFault(): void {
  if (!fault || tf.getBackend() !== 'webgpu') return;
  if (lost) throw new GpuLostError(fault);
  const message = fault;
  // an allocation that failed is reported once: the next run may fit
  fault = null;
  throw new Error(message);
}

/** For tests: forget a fault that is not a lost device. */
export function clearGpuFault(): void {
  if (!lost) fault = null;
}
