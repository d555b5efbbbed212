// Kernels we give the webgpu backend, in WGSL, run through tfjs-backend-webgpu's own
// program machinery (runWebGPUProgram: it declares the buffers, the uniforms and the
// output; our code is the body).
//
// - LatentlabRandom: the engine's counter-based draws (ops/random.ts). Element i is a
//   hash of (seed, i), so the GPU makes them where they are used; uniform and Bernoulli
//   draws are the very numbers the CPU backends make (integer hashing, an exact
//   division by 2^24); normal draws pass through f32 log and our own sin/cos (WGSL's
//   promise only 2^-11) and match the CPU's, which rounds a double, to about 1e-6.
// - Conv2DBackpropFilter: tfjs-webgpu runs one thread per filter element, each looping
//   over batch × height × width. For a 3×3×64×64 filter on a batch of 28×28 images that
//   is 36,864 threads looping 100,000 times. Ours is a tiled matrix product
//   (dW[(fh,fw,ci), co] = Σ_k x_col[k, (fh,fw,ci)] · dy[k, co], k over batch × out rows
//   × out cols) with the sum over k split into slices that run side by side, then added.
// - Adam (webgpuAdamUpdate, used by train/fused-adam.ts's WebgpuAdam): two dispatches
//   per variable (the moments, then the weights) instead of the ~10 small kernels of
//   tf.train.adam, with the same update.
import * as tf from '@tensorflow/tfjs';
import { nodeRequire } from '../util/node-require';

interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode(): string;
}
type Uniform = { type: 'float32' | 'int32' | 'uint32'; data: number[] };
interface WebgpuBackend {
  runWebGPUProgram(p: Program, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: Uniform[]): tf.TensorInfo;
  disposeData(dataId: unknown): void;
}
interface WebgpuUtil {
  flatDispatchLayout(shape: number[]): { x: number[] };
  computeDispatch(layout: { x: number[] }, shape: number[], workgroupSize: [number, number, number]): [number, number, number];
}

const util = (): WebgpuUtil => (nodeRequire()('@tensorflow/tfjs-backend-webgpu') as { webgpu_util: WebgpuUtil }).webgpu_util;

const HASH_WGSL = `
  fn llFmix32(h0 : u32) -> u32 {
    var h = h0;
    h = h ^ (h >> 16u);
    h = h * 0x85ebca6bu;
    h = h ^ (h >> 13u);
    h = h * 0xc2b2ae35u;
    h = h ^ (h >> 16u);
    return h;
  }
  fn llDraw(key : u32, i : u32) -> u32 {
    return llFmix32((i * 0x9e3779b9u) ^ key);
  }
  fn llUniform(key : u32, i : u32) -> f32 {
    return f32(llDraw(key, i) >> 8u) / 16777216.0;
  }
  // sin on [0, 2π) to ~1e-7: WGSL's own sin and cos promise only 2^-11 absolute
  fn llSin(a : f32) -> f32 {
    var x = a;
    if (x > 3.14159265358979) { x = x - 6.28318530717959; }
    if (x > 1.5707963267949) { x = 3.14159265358979 - x; } else if (x < -1.5707963267949) { x = -3.14159265358979 - x; }
    let x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0 + x2 * (-1.0 / 39916800.0 + x2 * (1.0 / 6227020800.0)))))));
  }
  fn llCos(a : f32) -> f32 {
    var x = a + 1.5707963267949;
    if (x >= 6.28318530717959) { x = x - 6.28318530717959; }
    return llSin(x);
  }
`;

/** A flat elementwise program: `body` computes `value` for `index`. */
function flatProgram(key: string, shape: number[], variableNames: string[], uniforms: string, body: string): Program {
  const u = util();
  const workgroupSize: [number, number, number] = [64, 1, 1];
  const dispatchLayout = u.flatDispatchLayout(shape);
  return {
    variableNames,
    outputShape: shape,
    shaderKey: key,
    dispatchLayout,
    dispatch: u.computeDispatch(dispatchLayout, shape, workgroupSize),
    workgroupSize,
    size: true,
    uniforms,
    getUserCode: () => `${HASH_WGSL}
  fn main(index : i32) {
    if (index < uniforms.size) {
      ${body}
    }
  }`,
  };
}

const RANDOM_BODY: Record<string, string> = {
  uniform: 'setOutputAtIndex(index, llUniform(uniforms.key, u32(index)));',
  // pairs (2j, 2j+1) share two draws: cos for the even element, sin for the odd one (Box–Muller)
  normal: `let j = u32(index) & ~1u;
      let u1 = (f32(llDraw(uniforms.key, j) >> 8u) + 1.0) / 16777216.0;
      let u2 = f32(llDraw(uniforms.key, j + 1u) >> 8u) / 16777216.0;
      let r = sqrt(-2.0 * log(u1));
      let a = 6.283185307179586 * u2;
      setOutputAtIndex(index, select(r * llCos(a), r * llSin(a), (u32(index) & 1u) == 1u));`,
  bernoulli: 'setOutputAtIndex(index, select(0.0, 1.0, llUniform(uniforms.key, u32(index)) < p[index]));',
};

/** The random kernel's body on webgpu: `key` is ops/random.ts's keyOf(seed). */
export function webgpuRandom(backend: unknown, dist: 'uniform' | 'normal' | 'bernoulli', key: number, shape: number[], p?: tf.TensorInfo): tf.TensorInfo {
  const program = flatProgram(`latentlab-random-${dist}`, shape, p ? ['p'] : [], 'key : u32,', RANDOM_BODY[dist]);
  return (backend as WebgpuBackend).runWebGPUProgram(program, p ? [p] : [], 'float32', [{ type: 'uint32', data: [key >>> 0] }]);
}

// --- Conv2DBackpropFilter ---------------------------------------------------------

const TILE = 16;

interface ConvInfo {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
  dataFormat: string;
}

/** Partial filter gradients [slices, FH·FW·CI, CO], each over its own range of k. */
function backpropFilterProgram(c: ConvInfo, slices: number, kPerSlice: number): Program {
  const R = c.filterHeight * c.filterWidth * c.inChannels;
  const CO = c.outChannels;
  return {
    variableNames: ['x', 'dy'],
    outputShape: [slices, R, CO],
    shaderKey: `latentlab-conv2d-backprop-filter-${TILE}`,
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(CO / TILE), Math.ceil(R / TILE), slices],
    workgroupSize: [TILE, TILE, 1],
    uniforms:
      'K : i32, kPerSlice : i32, R : i32, CO : i32, inH : i32, inW : i32, CI : i32, outH : i32, outW : i32, FW : i32, strideH : i32, strideW : i32, dilH : i32, dilW : i32, padTop : i32, padLeft : i32,',
    getUserCode: () => `
  var<workgroup> tileA : array<array<f32, ${TILE}>, ${TILE}>;
  var<workgroup> tileB : array<array<f32, ${TILE}>, ${TILE}>;

  // x_col[k, r]: the input pixel that filter element r sees at output position k (0 in the padding)
  fn llXcol(k : i32, r : i32) -> f32 {
    if (k >= uniforms.K || r >= uniforms.R) { return 0.0; }
    let ci = r % uniforms.CI;
    let fw = (r / uniforms.CI) % uniforms.FW;
    let fh = r / (uniforms.CI * uniforms.FW);
    let ow = k % uniforms.outW;
    let oh = (k / uniforms.outW) % uniforms.outH;
    let b = k / (uniforms.outW * uniforms.outH);
    let ih = oh * uniforms.strideH + fh * uniforms.dilH - uniforms.padTop;
    let iw = ow * uniforms.strideW + fw * uniforms.dilW - uniforms.padLeft;
    if (ih < 0 || ih >= uniforms.inH || iw < 0 || iw >= uniforms.inW) { return 0.0; }
    return x[((b * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.CI + ci];
  }
  fn llDy(k : i32, co : i32) -> f32 {
    if (k >= uniforms.K || co >= uniforms.CO) { return 0.0; }
    return dy[k * uniforms.CO + co];
  }

  fn main() {
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let co = i32(workgroupId.x) * ${TILE} + tx;
    let r = i32(workgroupId.y) * ${TILE} + ty;
    let slice = i32(workgroupId.z);
    let kBegin = slice * uniforms.kPerSlice;
    let kEnd = min(kBegin + uniforms.kPerSlice, uniforms.K);
    var acc = 0.0;
    // the trip count comes from uniforms alone: barriers need control flow that WGSL
    // can prove the same for the whole workgroup
    for (var t = 0; t < uniforms.kPerSlice; t = t + ${TILE}) {
      let k0 = kBegin + t;
      // tileA[row r][k], tileB[k][col co]: each thread loads one element of each
      let kA = k0 + tx;
      tileA[ty][tx] = select(0.0, llXcol(kA, i32(workgroupId.y) * ${TILE} + ty), kA < kEnd);
      let kB = k0 + ty;
      tileB[ty][tx] = select(0.0, llDy(kB, co), kB < kEnd);
      workgroupBarrier();
      for (var i = 0; i < ${TILE}; i = i + 1) {
        acc = acc + tileA[ty][i] * tileB[i][tx];
      }
      workgroupBarrier();
    }
    if (r < uniforms.R && co < uniforms.CO) {
      result[(slice * uniforms.R + r) * uniforms.CO + co] = acc;
    }
  }`,
  };
}

/** How many slices the sum over k is cut into: enough workgroups to fill a large GPU, slices of at least 256. */
export function backpropFilterSlices(K: number, R: number, CO: number): { slices: number; kPerSlice: number } {
  const tiles = Math.ceil(R / TILE) * Math.ceil(CO / TILE);
  const want = Math.max(1, Math.ceil(2048 / tiles));
  const slices = Math.max(1, Math.min(want, Math.floor(K / 256)));
  const kPerSlice = Math.ceil(K / slices / TILE) * TILE;
  return { slices: Math.ceil(K / kPerSlice), kPerSlice };
}

function conv2dBackpropFilter(call: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, dy } = call.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = call.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const backend = call.backend as WebgpuBackend;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (webgpu): NCHW is not supported; the engine uses NHWC');
  const c = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast') as unknown as ConvInfo;
  const K = c.batchSize * c.outHeight * c.outWidth;
  const R = c.filterHeight * c.filterWidth * c.inChannels;
  const { slices, kPerSlice } = backpropFilterSlices(K, R, c.outChannels);
  const program = backpropFilterProgram(c, slices, kPerSlice);
  const ints = [K, kPerSlice, R, c.outChannels, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.filterWidth, c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth, c.padInfo.top, c.padInfo.left];
  const partial = backend.runWebGPUProgram(program, [x, dy], 'float32', ints.map((v) => ({ type: 'int32' as const, data: [v] })));
  const sumKernel = tf.getKernel('Sum', 'webgpu')!;
  const reshape = tf.getKernel('Reshape', 'webgpu')!;
  let summed: tf.TensorInfo;
  if (slices === 1) summed = partial;
  else {
    summed = sumKernel.kernelFunc({ inputs: { x: partial }, attrs: { axis: [0], keepDims: false }, backend: backend as unknown as tf.KernelBackend }) as tf.TensorInfo;
    backend.disposeData(partial.dataId);
  }
  const out = reshape.kernelFunc({ inputs: { x: summed }, attrs: { shape: filterShape }, backend: backend as unknown as tf.KernelBackend }) as tf.TensorInfo;
  backend.disposeData(summed.dataId);
  return out;
}

// --- Adam ---------------------------------------------------------------------------

const ADAM_UNIFORMS = 'n : i32, lr : f32, b1 : f32, b2 : f32, eps : f32, c1 : f32, c2 : f32,';

/** The moments [m; v] (2n values) after one step with gradient g. */
function adamMomentsProgram(n: number): Program {
  return flatProgram('latentlab-adam-moments', [2 * n], ['g', 's'], ADAM_UNIFORMS, `
      if (index < uniforms.n) {
        setOutputAtIndex(index, uniforms.b1 * s[index] + (1.0 - uniforms.b1) * g[index]);
      } else {
        let gi = g[index - uniforms.n];
        setOutputAtIndex(index, uniforms.b2 * s[index] + (1.0 - uniforms.b2) * gi * gi);
      }`);
}

/** The weights after the step, from the new moments. */
function adamWeightsProgram(n: number): Program {
  return flatProgram('latentlab-adam-weights', [n], ['w', 's'], ADAM_UNIFORMS, `
      let m = s[index] / uniforms.c1;
      let v = s[index + uniforms.n] / uniforms.c2;
      setOutputAtIndex(index, w[index] - (uniforms.lr * m) / (sqrt(v) + uniforms.eps));`);
}

/** One Adam step of one variable: the new moments [m; v] (2n) and the new weights (n). */
export function webgpuAdamUpdate(
  grad: tf.TensorInfo, moments: tf.TensorInfo, variable: tf.TensorInfo,
  h: { lr: number; beta1: number; beta2: number; epsilon: number; c1: number; c2: number },
): { moments: tf.TensorInfo; weights: tf.TensorInfo } {
  const backend = tf.backend() as unknown as WebgpuBackend;
  const n = variable.shape.reduce((a, b) => a * b, 1);
  const uniforms: Uniform[] = [
    { type: 'int32', data: [n] },
    ...[h.lr, h.beta1, h.beta2, h.epsilon, h.c1, h.c2].map((v) => ({ type: 'float32' as const, data: [v] })),
  ];
  const next = backend.runWebGPUProgram(adamMomentsProgram(n), [grad, moments], 'float32', uniforms);
  const weights = backend.runWebGPUProgram(adamWeightsProgram(n), [variable, next], 'float32', uniforms);
  return { moments: next, weights: { ...weights, shape: variable.shape } };
}

let installed = false;

/** Register our kernels for the webgpu backend (once; LATENTLAB_WEBGPU_KERNELS=off keeps tfjs's own). */
export function installWebgpuKernels(): void {
  if (installed || process.env.LATENTLAB_WEBGPU_KERNELS === 'off') return;
  installed = true;
  if (tf.getKernel('Conv2DBackpropFilter', 'webgpu')) tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'webgpu', kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc });
}

/** For the backend detail line. */
export function webgpuKernelsDetail(): string {
  return process.env.LATENTLAB_WEBGPU_KERNELS === 'off' ? "tfjs's own webgpu kernels" : 'our conv filter gradient, Adam and random draws';
}
