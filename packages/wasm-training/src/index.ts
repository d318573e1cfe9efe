export type { WasmBackendChoice, WasmBackendOptions } from './init-wasm-backend.js';
export { initWasmBackend } from './init-wasm-backend.js';
export { registerWasmTrainingKernels } from './register.js';
