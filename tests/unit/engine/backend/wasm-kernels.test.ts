// Our wasm kernels with the native addon (where it is built; tests/integration/native-kernels.test.ts
// requires it wherever a compiler exists).
import { nativeKernels } from '../../../../src/engine/backend/native';
import { wasmKernelTests } from '../../../helpers/wasm-kernel-cases';

wasmKernelTests(nativeKernels().kernels ? 'native' : 'fallback');
