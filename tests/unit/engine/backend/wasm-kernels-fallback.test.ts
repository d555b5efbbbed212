// The same kernel checks on the portable paths a machine without the native addon
// uses (JS im2col/col2im, the untransposed XNNPACK matmul). Each test file runs in
// its own process, so switching the addon off here does not touch other files.
import { wasmKernelTests } from '../../../helpers/wasm-kernel-cases';

process.env.LATENTLAB_NATIVE = 'off';
wasmKernelTests('fallback');
