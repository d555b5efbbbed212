// Coupling masks: which units pass through (1) and condition the rest (0).

/** first half / second half, alternating by layer parity */
export function halvesMask(D: number, parity: number): Float32Array {
  const m = new Float32Array(D);
  for (let i = 0; i < D; i++) m[i] = (i < Math.ceil(D / 2) ? 1 : 0) ^ (parity & 1);
  return m;
}

/** even / odd units (NICE's partition), alternating by layer parity */
export function alternateMask(D: number, parity: number): Float32Array {
  const m = new Float32Array(D);
  for (let i = 0; i < D; i++) m[i] = (i + parity) % 2 === 0 ? 1 : 0;
  return m;
}

/** a checkerboard over an H x W image (RealNVP), alternating by layer parity; other shapes: alternate */
export function checkerboardMask(shape: number[], parity: number): Float32Array {
  const D = shape.reduce((a, b) => a * b, 1);
  if (shape.length < 2) return alternateMask(D, parity);
  const [H, W] = shape;
  const C = D / (H * W);
  const m = new Float32Array(D);
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) for (let k = 0; k < C; k++) m[(r * W + c) * C + k] = (r + c + parity) % 2 === 0 ? 1 : 0;
  return m;
}

/** 1 on the first (or, for odd parity, the second) half of the channels at every pixel */
export function channelMask(pixels: number, C: number, parity: number): Float32Array {
  const m = new Float32Array(pixels * C);
  const half = Math.ceil(C / 2);
  for (let p = 0; p < pixels; p++) for (let c = 0; c < C; c++) m[p * C + c] = (c < half ? 1 : 0) ^ (parity & 1);
  return m;
}
